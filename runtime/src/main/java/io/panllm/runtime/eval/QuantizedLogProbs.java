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

    /**
     * llama.cpp's {@code nearest_int}: adding 1.5 * 2^23 leaves the rounded integer (half to even)
     * in the low mantissa bits. Valid for |value| < 2^22, which 0..65535 is.
     */
    static int nearestInt(float value) {
        return (Float.floatToRawIntBits(value + 12582912f) & 0x007fffff) - 0x00400000;
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
        float max = LogSoftmax.max(logits);
        float min = Math.max(LogSoftmax.min(logits), max - RANGE_NATS);
        float logSumExp = (float) Math.log(LogSoftmax.sumExp(logits, max));
        minLogProb = min - max - logSumExp;
        scale = (max - min) / LEVELS;
        if (scale != 0) {
            float inverseScale = 1 / scale;
            for (int i = 0; i < logits.length; i++) {
                levels[i] = logits[i] > min ? (char) nearestInt(inverseScale * (logits[i] - min)) : 0;
            }
        } else {
            java.util.Arrays.fill(levels, (char) 0);
        }
        return max + logSumExp - logits[target];
    }
}
