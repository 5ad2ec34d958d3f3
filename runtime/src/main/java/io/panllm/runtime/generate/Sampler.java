package io.panllm.runtime.generate;

import io.panllm.runtime.Argmax;
import io.panllm.runtime.model.ModelException;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Chooses the next token from a vector of logits, llama.cpp style: repetition penalties over the
 * recent tokens, then top-k, top-p, min-p, temperature and a seeded random draw (or the argmax
 * when the temperature is {@code <= 0}). Stateful: it remembers the tokens it was told about
 * ({@link #accept}) for the penalties, and its random generator advances with every draw, so the
 * same seed and the same logits give the same tokens. Not thread-safe.
 */
public final class Sampler {

    private final SamplerConfig config;
    private final int vocabSize;
    private final long seed;
    private final SplittableRandom random;
    private final RecentTokens recent;
    /** The logits being worked on: a copy, so the caller's array is never modified. */
    private final float[] penalized;
    private final Candidates candidates;

    private Sampler(SamplerConfig config, int vocabSize, long seed) {
        this.config = config;
        this.vocabSize = vocabSize;
        this.seed = seed;
        this.random = new SplittableRandom(seed);
        this.recent = new RecentTokens(config.repeatLastN());
        this.penalized = new float[vocabSize];
        this.candidates = new Candidates(vocabSize);
    }

    public static Sampler create(SamplerConfig config, int vocabSize) {
        if (vocabSize <= 0) {
            throw new IllegalArgumentException("vocabulary size must be > 0, got " + vocabSize);
        }
        long seed = config.seed().orElseGet(() -> new SplittableRandom().nextLong());
        return new Sampler(config, vocabSize, seed);
    }

    /**
     * A sampler with other settings that remembers this one's recent tokens (as many as its own
     * window holds): for a chat whose settings change between turns.
     */
    public Sampler reconfigured(SamplerConfig newConfig) {
        Sampler sampler = create(newConfig, vocabSize);
        sampler.acceptAll(recent.toArray());
        return sampler;
    }

    public SamplerConfig config() {
        return config;
    }

    /** The seed in use (the one given, or the one picked at random), so a run can be reproduced. */
    public long seed() {
        return seed;
    }

    /** Records a token of the sequence (prompt or generated) for the repetition penalties. */
    public void accept(int token) {
        recent.add(token);
    }

    public void acceptAll(int[] tokens) {
        for (int token : tokens) {
            recent.add(token);
        }
    }

    /** Forgets the recent tokens (the random generator keeps its state). */
    public void resetHistory() {
        recent.clear();
    }

    /**
     * Picks the next token. Does not modify {@code logits} and does not {@link #accept} the
     * token: the caller does once it is part of the sequence.
     */
    public int sample(float[] logits) {
        if (logits.length != vocabSize) {
            throw new IllegalArgumentException("expected " + vocabSize + " logits, got " + logits.length);
        }
        float[] working = logits; // read only below, unless the penalties need a copy to change
        if (config.penalizes()) {
            System.arraycopy(logits, 0, penalized, 0, vocabSize);
            applyPenalties(penalized, recent.toArray());
            working = penalized;
        }
        if (config.isGreedy()) {
            return Argmax.of(working);
        }
        narrow(working);
        return draw(candidates, random.nextDouble());
    }

    /**
     * The filters and the temperature, in llama.cpp's order, over the penalized logits: leaves in
     * {@link #candidates} the tokens that may be drawn, with their final logits.
     */
    void narrow(float[] penalizedLogits) {
        int topK = config.topK();
        if (topK > 0 && topK < vocabSize) {
            candidates.setTopK(penalizedLogits, topK);
        } else {
            candidates.setAll(penalizedLogits);
        }
        TopP.apply(candidates, config.topP());
        applyMinP(candidates, config.minP());
        applyTemperature(candidates, config.temperature());
    }

    Candidates candidates() {
        return candidates;
    }

    /**
     * llama.cpp's penalties: each distinct token of the window has its logit divided by the repeat
     * penalty when positive (multiplied when not), then lowered by count * frequency penalty +
     * presence penalty.
     */
    void applyPenalties(float[] logits, int[] window) {
        int[] sortedWindow = window.clone();
        Arrays.sort(sortedWindow);
        for (int i = 0; i < sortedWindow.length; ) {
            int token = sortedWindow[i];
            int count = 0;
            while (i < sortedWindow.length && sortedWindow[i] == token) {
                count++;
                i++;
            }
            if (token < 0 || token >= logits.length) {
                continue;
            }
            float logit = logits[token];
            logit = logit <= 0 ? logit * config.repeatPenalty() : logit / config.repeatPenalty();
            logits[token] = logit - count * config.frequencyPenalty() - config.presencePenalty();
        }
    }

    /** Drops the candidates whose probability is below {@code p} times the best one's. */
    static void applyMinP(Candidates candidates, float p) {
        if (p <= 0.0f || candidates.size <= 1) {
            return;
        }
        float threshold = candidates.maxLogit() + (float) Math.log(p);
        int kept = 0;
        for (int i = 0; i < candidates.size; i++) {
            if (candidates.logits[i] >= threshold) {
                candidates.ids[kept] = candidates.ids[i];
                candidates.logits[kept] = candidates.logits[i];
                kept++;
            }
        }
        // The best candidate always passes (p <= 1), so kept >= 1.
        candidates.size = kept;
    }

    static void applyTemperature(Candidates candidates, float temperature) {
        for (int i = 0; i < candidates.size; i++) {
            candidates.logits[i] /= temperature;
        }
    }

    /** Draws a candidate with probability softmax(logit), using {@code uniform} in [0, 1). */
    static int draw(Candidates candidates, double uniform) {
        float max = candidates.maxLogit();
        double target = uniform * candidates.sumExp(max);
        if (candidates.size == 0 || Double.isNaN(target)) {
            throw ModelException.nanLogits(); // NaN fails every comparison of the filters and poisons the sum
        }
        double cumulative = 0;
        for (int i = 0; i < candidates.size; i++) {
            cumulative += Math.exp(candidates.logits[i] - max);
            if (cumulative > target) {
                return candidates.ids[i];
            }
        }
        return candidates.ids[candidates.size - 1];
    }
}
