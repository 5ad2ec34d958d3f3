package io.panllm.runtime.cpu;

import io.panllm.runtime.FixedOrderMath;
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
            sum = FixedOrderMath.sum(acc);
        }
        for (; i < n; i++) {
            sum += a[aOffset + i] * b[bOffset + i];
        }
        return sum;
    }

    /** Whether {@link #dotTile4x4} can take rows of n floats (whole vectors, no tail). */
    static boolean tileable(int n) {
        return n % F.length() == 0;
    }

    /**
     * The 4 x 4 tile of a matrix-matrix product: four weight rows (w[0 .. 4n), one after the other)
     * dotted with four activation vectors (x[x0 ..], each n long, one after the other); n a multiple
     * of the vector length. Every load feeds four multiply-adds, which is what keeps a batch from
     * waiting on the cache. Result (row i, vector j) goes to out[outOffset + i + j * outStride].
     */
    static void dotTile4x4(float[] w, float[] x, int x0, int n, float[] out, int outOffset, int outStride) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        for (int i = 0; i < n; i += F.length()) {
            FloatVector v0 = FloatVector.fromArray(F, x, x0 + i);
            FloatVector v1 = FloatVector.fromArray(F, x, x0 + n + i);
            FloatVector v2 = FloatVector.fromArray(F, x, x0 + 2 * n + i);
            FloatVector v3 = FloatVector.fromArray(F, x, x0 + 3 * n + i);
            FloatVector w0 = FloatVector.fromArray(F, w, i);
            a00 = w0.fma(v0, a00);
            a01 = w0.fma(v1, a01);
            a02 = w0.fma(v2, a02);
            a03 = w0.fma(v3, a03);
            FloatVector w1 = FloatVector.fromArray(F, w, n + i);
            a10 = w1.fma(v0, a10);
            a11 = w1.fma(v1, a11);
            a12 = w1.fma(v2, a12);
            a13 = w1.fma(v3, a13);
            FloatVector w2 = FloatVector.fromArray(F, w, 2 * n + i);
            a20 = w2.fma(v0, a20);
            a21 = w2.fma(v1, a21);
            a22 = w2.fma(v2, a22);
            a23 = w2.fma(v3, a23);
            FloatVector w3 = FloatVector.fromArray(F, w, 3 * n + i);
            a30 = w3.fma(v0, a30);
            a31 = w3.fma(v1, a31);
            a32 = w3.fma(v2, a32);
            a33 = w3.fma(v3, a33);
        }
        storeColumn(out, outOffset, outStride, a00, a01, a02, a03);
        storeColumn(out, outOffset + 1, outStride, a10, a11, a12, a13);
        storeColumn(out, outOffset + 2, outStride, a20, a21, a22, a23);
        storeColumn(out, outOffset + 3, outStride, a30, a31, a32, a33);
    }

    private static void storeColumn(float[] out, int offset, int stride, FloatVector s0, FloatVector s1, FloatVector s2,
            FloatVector s3) {
        out[offset] = FixedOrderMath.sum(s0);
        out[offset + stride] = FixedOrderMath.sum(s1);
        out[offset + 2 * stride] = FixedOrderMath.sum(s2);
        out[offset + 3 * stride] = FixedOrderMath.sum(s3);
    }

    /**
     * Dots w[0 .. n) with {@code batch} vectors laid out one after the other in x, writing result b
     * to {@code out[outOffset + b * outStride]}. Four vectors at a time share each load of w.
     */
    static void dotBatch(float[] w, float[] x, int n, int batch, float[] out, int outOffset, int outStride) {
        int b = 0;
        for (; b + 4 <= batch && n >= F.length(); b += 4) {
            int x0 = b * n;
            int x1 = x0 + n;
            int x2 = x1 + n;
            int x3 = x2 + n;
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            FloatVector acc2 = FloatVector.zero(F);
            FloatVector acc3 = FloatVector.zero(F);
            int i = 0;
            for (; i <= n - F.length(); i += F.length()) {
                FloatVector weights = FloatVector.fromArray(F, w, i);
                acc0 = weights.fma(FloatVector.fromArray(F, x, x0 + i), acc0);
                acc1 = weights.fma(FloatVector.fromArray(F, x, x1 + i), acc1);
                acc2 = weights.fma(FloatVector.fromArray(F, x, x2 + i), acc2);
                acc3 = weights.fma(FloatVector.fromArray(F, x, x3 + i), acc3);
            }
            float sum0 = FixedOrderMath.sum(acc0);
            float sum1 = FixedOrderMath.sum(acc1);
            float sum2 = FixedOrderMath.sum(acc2);
            float sum3 = FixedOrderMath.sum(acc3);
            for (; i < n; i++) {
                sum0 += w[i] * x[x0 + i];
                sum1 += w[i] * x[x1 + i];
                sum2 += w[i] * x[x2 + i];
                sum3 += w[i] * x[x3 + i];
            }
            out[outOffset + b * outStride] = sum0;
            out[outOffset + (b + 1) * outStride] = sum1;
            out[outOffset + (b + 2) * outStride] = sum2;
            out[outOffset + (b + 3) * outStride] = sum3;
        }
        for (; b < batch; b++) {
            out[outOffset + b * outStride] = dot(w, 0, x, b * n, n);
        }
    }

    /** values[offset .. offset + n) *= scale. */
    static void scale(float[] values, int offset, int n, float scale) {
        int i = 0;
        for (; i <= n - F.length(); i += F.length()) {
            FloatVector.fromArray(F, values, offset + i).mul(scale).intoArray(values, offset + i);
        }
        for (; i < n; i++) {
            values[offset + i] *= scale;
        }
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
