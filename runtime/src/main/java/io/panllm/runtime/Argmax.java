package io.panllm.runtime;

/** The index of the largest logit (the first one on ties), as greedy decoding picks it. */
public final class Argmax {
    private Argmax() {
    }

    public static int of(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
