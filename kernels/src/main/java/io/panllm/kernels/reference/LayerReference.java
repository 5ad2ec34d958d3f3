package io.panllm.kernels.reference;

/** CPU references for the layer kernels, in double where it matters. */
public final class LayerReference {
    private LayerReference() {
    }

    /** Each row of n: x / sqrt(mean(x^2) + eps) * weight. */
    public static float[] rmsNorm(float[] x, float[] weight, int rows, int n, float eps) {
        float[] out = new float[rows * n];
        for (int row = 0; row < rows; row++) {
            double sumSquares = 0;
            for (int i = 0; i < n; i++) {
                double value = x[row * n + i];
                sumSquares += value * value;
            }
            double scale = 1.0 / Math.sqrt(sumSquares / n + eps);
            for (int i = 0; i < n; i++) {
                out[row * n + i] = (float) (x[row * n + i] * scale * weight[i]);
            }
        }
        return out;
    }

    /** silu(gate) * up, silu(g) = g / (1 + e^-g). */
    public static float[] swiglu(float[] gate, float[] up) {
        float[] out = new float[gate.length];
        for (int i = 0; i < gate.length; i++) {
            double g = gate[i];
            out[i] = (float) (g / (1 + Math.exp(-g)) * up[i]);
        }
        return out;
    }

    /** x + addend. */
    public static float[] add(float[] x, float[] addend) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] + addend[i];
        }
        return out;
    }

    /**
     * Rotates pairs (x[2k], x[2k+1]) of each head by angle position * invFreq[k], the angle
     * rounded to float as llama.cpp (and the kernel) compute it, its sine and cosine in double.
     */
    public static float[] rope(float[] x, float[] invFreq, int position, int heads, int headDim) {
        float[] out = x.clone();
        for (int head = 0; head < heads; head++) {
            for (int k = 0; k < headDim / 2; k++) {
                float angle = (float) position * invFreq[k];
                double cos = Math.cos(angle);
                double sin = Math.sin(angle);
                int i = head * headDim + 2 * k;
                double x0 = x[i];
                double x1 = x[i + 1];
                out[i] = (float) (x0 * cos - x1 * sin);
                out[i + 1] = (float) (x0 * sin + x1 * cos);
            }
        }
        return out;
    }

    /** Llama's inverse frequencies base^(-2k/headDim), without Llama 3 scaling. */
    public static float[] inverseFrequencies(int headDim, double base) {
        float[] invFreq = new float[headDim / 2];
        for (int k = 0; k < invFreq.length; k++) {
            invFreq[k] = (float) Math.pow(base, -2.0 * k / headDim);
        }
        return invFreq;
    }
}
