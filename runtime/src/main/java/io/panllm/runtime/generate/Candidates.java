package io.panllm.runtime.generate;

/**
 * The tokens still in the running while the samplers narrow the choice: parallel arrays of token
 * ids and their (penalized, possibly temperature-scaled) logits. Only the first {@link #size}
 * entries count. {@link #sorted} says whether they are in descending order of logit, which top-k
 * and top-p establish and the later steps preserve.
 */
final class Candidates {

    final int[] ids;
    final float[] logits;
    int size;
    boolean sorted;

    Candidates(int vocabSize) {
        ids = new int[vocabSize];
        logits = new float[vocabSize];
    }

    /** Every token of the vocabulary, in id order. */
    void setAll(float[] vocabLogits) {
        for (int id = 0; id < vocabLogits.length; id++) {
            ids[id] = id;
        }
        System.arraycopy(vocabLogits, 0, logits, 0, vocabLogits.length);
        size = vocabLogits.length;
        sorted = false;
    }

    /** The {@code k} tokens with the largest logits of the whole vocabulary, best first. */
    void setTopK(float[] vocabLogits, int k) {
        size = TopSelection.selectLargest(vocabLogits, null, vocabLogits.length, k, ids, logits);
        sorted = true;
    }

    float maxLogit() {
        if (sorted) {
            return logits[0];
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < size; i++) {
            max = Math.max(max, logits[i]);
        }
        return max;
    }

    /** Sum of exp(logit - max) over the candidates: the softmax denominator. */
    double sumExp(float max) {
        double sum = 0;
        for (int i = 0; i < size; i++) {
            sum += Math.exp(logits[i] - max);
        }
        return sum;
    }
}
