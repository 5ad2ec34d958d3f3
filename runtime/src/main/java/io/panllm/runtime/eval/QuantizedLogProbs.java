package io.panllm.runtime.eval;

/**
 * The log-probabilities of one position over the whole vocabulary, stored as llama.cpp's
 * KL-divergence base file stores them: {@code log p[i] ~= scale * q[i] + minLogProb} with q a
 * uint16 (held in a char, Java's unsigned 16-bit type). The range covers at most 16 nats below
 * the most likely token; everything less likely is clamped to q = 0, i.e. to that floor.
 */
final class QuantizedLogProbs {

    /** llama.cpp ignores what lies more than this many nats below the best logit. */
    static final float RANGE_NATS = 16;
    private static final float LEVELS = 65535f;

    float scale;
    float minLogProb;
    final char[] levels;

    QuantizedLogProbs(int vocabSize) {
        levels = new char[vocabSize];
    }

    float logProb(int token) {
        return scale * levels[token] + minLogProb;
    }

    /**
     * Stores the log-softmax of {@code logits}, the arithmetic of llama.cpp's
     * {@code log_softmax(n_vocab, logits, log_prob, tok)} step by step (float where it uses float).
     *
     * @return the negative log-likelihood of {@code target}
     */
    double encode(float[] logits, int target) {
        float max = logits[0];
        float min = logits[0];
        for (int i = 1; i < logits.length; i++) {
            max = Math.max(max, logits[i]);
            min = Math.min(min, logits[i]);
        }
        min = Math.max(min, max - RANGE_NATS);
        float logSumExp = (float) Math.log(LogSoftmax.sumExp(logits, max));
        minLogProb = min - max - logSumExp;
        scale = (max - min) / LEVELS;
        if (scale != 0) {
            float inverseScale = 1 / scale;
            for (int i = 0; i < logits.length; i++) {
                // Math.rint rounds half to even, like llama.cpp's nearest_int.
                levels[i] = logits[i] > min ? (char) Math.min(65535, Math.rint(inverseScale * (logits[i] - min))) : 0;
            }
        } else {
            java.util.Arrays.fill(levels, (char) 0);
        }
        return max + logSumExp - logits[target];
    }
}
