package io.panllm.kernels.reference;

/** CPU references for the batched (prefill) kernels, in double; activations row-major [tokens][width]. */
public final class PrefillReference {
    private PrefillReference() {
    }

    /**
     * Causal attention of {@code tokens} queries over a cache: query t (row t of {@code qkv}, rows
     * of {@code qkvStride}, head h at h headDim) attends to positions 0 .. start + t of
     * {@code keys}/{@code values} (rows of kvHeads headDim); query heads share KV heads in groups.
     */
    public static float[] attention(float[] qkv, int qkvStride, float[] keys, float[] values, int tokens, int start,
                                    int heads, int kvHeads, int headDim) {
        int kvDim = kvHeads * headDim;
        float[] out = new float[tokens * heads * headDim];
        for (int t = 0; t < tokens; t++) {
            for (int h = 0; h < heads; h++) {
                int kvHead = h / (heads / kvHeads);
                int positions = start + t + 1;
                double[] scores = new double[positions];
                double max = Double.NEGATIVE_INFINITY;
                for (int p = 0; p < positions; p++) {
                    double dot = 0;
                    for (int d = 0; d < headDim; d++) {
                        dot += (double) qkv[t * qkvStride + h * headDim + d] * keys[p * kvDim + kvHead * headDim + d];
                    }
                    scores[p] = dot / Math.sqrt(headDim);
                    max = Math.max(max, scores[p]);
                }
                double sum = 0;
                for (int p = 0; p < positions; p++) {
                    scores[p] = Math.exp(scores[p] - max);
                    sum += scores[p];
                }
                for (int d = 0; d < headDim; d++) {
                    double acc = 0;
                    for (int p = 0; p < positions; p++) {
                        acc += scores[p] * values[p * kvDim + kvHead * headDim + d];
                    }
                    out[(t * heads + h) * headDim + d] = (float) (acc / sum);
                }
            }
        }
        return out;
    }

    /**
     * RoPE (adjacent pairs, all of each head rotated) of the q and k parts of each row of
     * {@code qkv} at position start + row, angle in double; returns the rotated copy.
     */
    public static float[] ropeRows(float[] qkv, double[] inverseFrequencies, int tokens, int start, int heads,
                                   int kvHeads, int headDim) {
        int width = (heads + 2 * kvHeads) * headDim;
        float[] out = qkv.clone();
        for (int t = 0; t < tokens; t++) {
            for (int head = 0; head < heads + kvHeads; head++) {
                for (int k = 0; k < headDim / 2; k++) {
                    double angle = (double) (start + t) * inverseFrequencies[k];
                    int i = t * width + head * headDim + 2 * k;
                    double x0 = qkv[i];
                    double x1 = qkv[i + 1];
                    out[i] = (float) (x0 * Math.cos(angle) - x1 * Math.sin(angle));
                    out[i + 1] = (float) (x0 * Math.sin(angle) + x1 * Math.cos(angle));
                }
            }
        }
        return out;
    }

    /** silu(gate) * up for rows of gate (ff floats) then up (ff floats). */
    public static float[] swigluRows(float[] gateUp, int rows, int ff) {
        float[] out = new float[rows * ff];
        for (int t = 0; t < rows; t++) {
            for (int i = 0; i < ff; i++) {
                double g = gateUp[t * 2 * ff + i];
                out[t * ff + i] = (float) (g / (1 + Math.exp(-g)) * gateUp[t * 2 * ff + ff + i]);
            }
        }
        return out;
    }

    /** Rows of scores (query token r % tokens): softmax(score / sqrt(headDim)) up to start + token, zeros after. */
    public static float[] causalSoftmax(float[] scores, int rows, int tokens, int positions, int start, int headDim) {
        float[] out = new float[scores.length];
        for (int r = 0; r < rows; r++) {
            int n = start + r % tokens + 1;
            double max = Double.NEGATIVE_INFINITY;
            for (int p = 0; p < n; p++) {
                max = Math.max(max, scores[r * positions + p] / Math.sqrt(headDim));
            }
            double sum = 0;
            for (int p = 0; p < n; p++) {
                sum += Math.exp(scores[r * positions + p] / Math.sqrt(headDim) - max);
            }
            for (int p = 0; p < n; p++) {
                out[r * positions + p] = (float) (Math.exp(scores[r * positions + p] / Math.sqrt(headDim) - max) / sum);
            }
        }
        return out;
    }
}
