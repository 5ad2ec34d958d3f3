package io.panllm.runtime.generate;

import java.util.OptionalLong;

/**
 * How the next token is chosen from the logits, with llama.cpp's defaults and meanings.
 *
 * <p>The samplers run in llama.cpp's default order: repetition penalties, top-k, top-p, min-p,
 * temperature, then a draw from the remaining distribution. A temperature of zero or below means
 * greedy decoding (the most likely token after the penalties).
 *
 * @param temperature      divides the logits before the draw; {@code <= 0} selects greedy decoding
 * @param topK             keep only the {@code topK} most likely tokens; {@code <= 0} disables
 * @param topP             keep the smallest set of most likely tokens whose probability reaches
 *                         {@code topP}; {@code >= 1} disables
 * @param minP             drop tokens less likely than {@code minP} times the most likely one;
 *                         {@code <= 0} disables
 * @param repeatPenalty    logits of recently seen tokens are divided by it when positive and
 *                         multiplied by it otherwise; 1 disables
 * @param repeatLastN      how many recent tokens the penalties look at; 0 disables
 * @param frequencyPenalty subtracted once per occurrence in the window; 0 disables
 * @param presencePenalty  subtracted once from every token present in the window; 0 disables
 * @param seed             the random seed; empty picks one at random (see {@link Sampler#seed()})
 */
public record SamplerConfig(
        float temperature,
        int topK,
        float topP,
        float minP,
        float repeatPenalty,
        int repeatLastN,
        float frequencyPenalty,
        float presencePenalty,
        OptionalLong seed) {

    public SamplerConfig {
        requireFinite("temperature", temperature);
        requireFinite("top-p", topP);
        requireFinite("min-p", minP);
        requireFinite("repeat penalty", repeatPenalty);
        requireFinite("frequency penalty", frequencyPenalty);
        requireFinite("presence penalty", presencePenalty);
        if (minP < 0 || minP > 1) {
            throw new IllegalArgumentException("min-p must be between 0 and 1 (0 disables it), got " + minP);
        }
        if (topP <= 0) {
            throw new IllegalArgumentException("top-p must be > 0 (1 disables it), got " + topP);
        }
        if (repeatPenalty <= 0) {
            throw new IllegalArgumentException("repeat penalty must be > 0 (1 disables it), got " + repeatPenalty);
        }
        if (repeatLastN < 0) {
            throw new IllegalArgumentException("repeat-last-n must be >= 0 (0 disables the penalties), got "
                    + repeatLastN);
        }
        if (seed == null) {
            throw new IllegalArgumentException("seed must be OptionalLong.empty() for a random seed, not null");
        }
    }

    /** llama.cpp's defaults: temp 0.8, top-k 40, top-p 0.95, min-p 0.05, no repetition penalty. */
    public static SamplerConfig defaults() {
        return new SamplerConfig(0.8f, 40, 0.95f, 0.05f, 1.0f, 64, 0.0f, 0.0f, OptionalLong.empty());
    }

    /** Greedy decoding: always the most likely token. */
    public static SamplerConfig greedy() {
        return defaults().withTemperature(0);
    }

    public boolean isGreedy() {
        return temperature <= 0;
    }

    /** Whether any repetition penalty can change a logit. */
    public boolean penalizes() {
        return repeatLastN > 0 && (repeatPenalty != 1.0f || frequencyPenalty != 0.0f || presencePenalty != 0.0f);
    }

    public SamplerConfig withTemperature(float value) {
        return new SamplerConfig(value, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty,
                presencePenalty, seed);
    }

    public SamplerConfig withTopK(int value) {
        return new SamplerConfig(temperature, value, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty,
                presencePenalty, seed);
    }

    public SamplerConfig withTopP(float value) {
        return new SamplerConfig(temperature, topK, value, minP, repeatPenalty, repeatLastN, frequencyPenalty,
                presencePenalty, seed);
    }

    public SamplerConfig withMinP(float value) {
        return new SamplerConfig(temperature, topK, topP, value, repeatPenalty, repeatLastN, frequencyPenalty,
                presencePenalty, seed);
    }

    public SamplerConfig withRepeatPenalty(float penalty, int lastN) {
        return new SamplerConfig(temperature, topK, topP, minP, penalty, lastN, frequencyPenalty,
                presencePenalty, seed);
    }

    public SamplerConfig withFrequencyAndPresencePenalty(float frequency, float presence) {
        return new SamplerConfig(temperature, topK, topP, minP, repeatPenalty, repeatLastN, frequency,
                presence, seed);
    }

    public SamplerConfig withSeed(long value) {
        return new SamplerConfig(temperature, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty,
                presencePenalty, OptionalLong.of(value));
    }

    private static void requireFinite(String name, float value) {
        if (!Float.isFinite(value)) {
            throw new IllegalArgumentException(name + " must be a finite number, got " + value);
        }
    }
}
