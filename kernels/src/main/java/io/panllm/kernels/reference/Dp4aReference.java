package io.panllm.kernels.reference;

import io.panllm.kernels.WeightFormat;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * CPU reference for the dp4a GEMVs ({@code Dp4aGemv}): what they compute is W x^, x^ the
 * activations quantized as the quantize_q8_1 kernel does (same float operations, so the same int8
 * codes bit for bit), and for NF4 the codebook rounded to int8. The dot products are in double.
 */
public final class Dp4aReference {
    /** bitsandbytes' NF4 values times 127, rounded (gemv_dp4a.py's NF4_INT8). */
    static final int[] NF4_INT8 = {-127, -88, -67, -50, -36, -23, -12, 0, 10, 20, 31, 43, 56, 71, 92, 127};

    private Dp4aReference() {
    }

    /** The int8 codes of x (cols a multiple of 32): per block d = amax / 127, q = rint(x / d). */
    public static byte[] codes(float[] x) {
        byte[] q = new byte[x.length];
        for (int b = 0; b < x.length / 32; b++) {
            float d = scale(x, b);
            for (int i = 32 * b; i < 32 * b + 32; i++) {
                q[i] = d == 0 ? 0 : (byte) Math.max(-127, Math.min(127, (int) Math.rint(x[i] / d)));
            }
        }
        return q;
    }

    /** The scale d of block b of x. */
    public static float scale(float[] x, int b) {
        float amax = 0;
        for (int i = 32 * b; i < 32 * b + 32; i++) {
            amax = Math.max(amax, Math.abs(x[i]));
        }
        return amax / 127f;
    }

    /** x^ = d q, the quantized x as the kernels see it. */
    public static double[] quantized(float[] x) {
        byte[] q = codes(x);
        double[] xHat = new double[x.length];
        for (int b = 0; b < x.length / 32; b++) {
            double d = scale(x, b);
            for (int i = 32 * b; i < 32 * b + 32; i++) {
                xHat[i] = d * q[i];
            }
        }
        return xHat;
    }

    /** y = W x^ for W (rows x cols) in {@code format}. */
    public static float[] multiply(WeightFormat format, MemorySegment weights, float[] x, int rows, int cols) {
        double[] xHat = quantized(x);
        float[] y = new float[rows];
        for (int row = 0; row < rows; row++) {
            float[] w = format == WeightFormat.NF4 ? nf4Row(weights, row, cols) : Dequantize.row(format, weights, row, cols);
            double sum = 0;
            for (int col = 0; col < cols; col++) {
                sum += w[col] * xHat[col];
            }
            y[row] = (float) sum;
        }
        return y;
    }

    /** y = scale[r] * sum(codes[r][c] * x^[c]) for LLM.int8 rows. */
    public static float[] multiplyInt8(byte[] codes, float[] rowScales, float[] x, int rows, int cols) {
        double[] xHat = quantized(x);
        float[] y = new float[rows];
        for (int r = 0; r < rows; r++) {
            double sum = 0;
            for (int c = 0; c < cols; c++) {
                sum += codes[r * cols + c] * xHat[c];
            }
            y[r] = (float) (sum * rowScales[r]);
        }
        return y;
    }

    /** An NF4 row with the int8 codebook: absmax * NF4_INT8[code] / 127. */
    static float[] nf4Row(MemorySegment weights, int row, int cols) {
        float[] values = new float[cols];
        long rowStart = row * WeightFormat.NF4.rowBytes(cols);
        for (int b = 0; b < cols / 64; b++) {
            long block = rowStart + 34L * b;
            double absmax = Float.float16ToFloat(weights.get(ValueLayout.JAVA_SHORT_UNALIGNED, block));
            for (int k = 0; k < 32; k++) {
                int packed = weights.get(ValueLayout.JAVA_BYTE, block + 2 + k) & 0xFF;
                values[64 * b + 2 * k] = (float) (absmax * NF4_INT8[packed >>> 4] / 127);
                values[64 * b + 2 * k + 1] = (float) (absmax * NF4_INT8[packed & 15] / 127);
            }
        }
        return values;
    }
}
