package io.panllm.runtime.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Vectorised float32 helpers for the parts of the forward pass that are not matrix products. */
final class FloatMath {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private FloatMath() {
    }

    /** a[aOffset ..] . b[bOffset ..] over n elements. */
    static float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
        int i = 0;
        float sum = 0f;
        if (n >= F.length()) {
            FloatVector acc = FloatVector.zero(F);
            for (; i <= n - F.length(); i += F.length()) {
                acc = FloatVector.fromArray(F, a, aOffset + i).fma(FloatVector.fromArray(F, b, bOffset + i), acc);
            }
            sum = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            sum += a[aOffset + i] * b[bOffset + i];
        }
        return sum;
    }

    /** out[outOffset ..] += scale * x[xOffset ..] over n elements. */
    static void addScaled(float[] out, int outOffset, float[] x, int xOffset, float scale, int n) {
        int i = 0;
        for (; i <= n - F.length(); i += F.length()) {
            FloatVector.fromArray(F, x, xOffset + i)
                    .fma(FloatVector.broadcast(F, scale), FloatVector.fromArray(F, out, outOffset + i))
                    .intoArray(out, outOffset + i);
        }
        for (; i < n; i++) {
            out[outOffset + i] += scale * x[xOffset + i];
        }
    }

    /** out[offset .. offset + n) = rmsnorm(x[offset ..]) * weight: x / sqrt(mean(x^2) + eps) * weight. */
    static void rmsNorm(float[] out, float[] x, int offset, float[] weight, int n, float eps) {
        float sumOfSquares = dot(x, offset, x, offset, n);
        float scale = (float) (1.0 / Math.sqrt(sumOfSquares / n + eps));
        for (int i = 0; i < n; i++) {
            out[offset + i] = weight[i] * (scale * x[offset + i]);
        }
    }

    /** Softmax of values[offset .. offset + n) in place, in float32 with the maximum subtracted first. */
    static void softmax(float[] values, int offset, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, values[offset + i]);
        }
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(values[offset + i] - max);
            values[offset + i] = e;
            sum += e;
        }
        float inverse = 1f / sum;
        for (int i = 0; i < n; i++) {
            values[offset + i] *= inverse;
        }
    }
}
