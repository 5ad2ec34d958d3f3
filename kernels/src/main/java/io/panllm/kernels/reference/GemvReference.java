package io.panllm.kernels.reference;

import io.panllm.kernels.WeightFormat;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * CPU reference for the GEMV kernels: dequantizes each weight from its GGUF block and sums in
 * double. Deliberately plain (kernels must not depend on gguf-io, which owns the real codecs).
 */
public final class GemvReference {
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    private GemvReference() {
    }

    /** y = W x for W (rows x cols) in {@code format}. */
    public static float[] multiply(WeightFormat format, MemorySegment weights, float[] x, int rows, int cols) {
        return switch (format) {
            case Q4_0 -> q4_0(weights, x, rows, cols);
            case Q8_0 -> q8_0(weights, x, rows, cols);
            case F16 -> f16(weights, x, rows, cols);
        };
    }

    /** Q4_0 block: fp16 d, qs[16]; element j is d * ((qs[j] & 15) - 8), element 16 + j is d * ((qs[j] >> 4) - 8). */
    public static float[] q4_0(MemorySegment weights, float[] x, int rows, int cols) {
        int blocksPerRow = cols / 32;
        float[] y = new float[rows];
        for (int row = 0; row < rows; row++) {
            double sum = 0;
            for (int b = 0; b < blocksPerRow; b++) {
                long block = ((long) row * blocksPerRow + b) * 18;
                double d = Float.float16ToFloat(weights.get(F16, block));
                for (int j = 0; j < 16; j++) {
                    int packed = weights.get(ValueLayout.JAVA_BYTE, block + 2 + j) & 0xFF;
                    sum += d * ((packed & 15) - 8) * x[b * 32 + j];
                    sum += d * ((packed >>> 4) - 8) * x[b * 32 + 16 + j];
                }
            }
            y[row] = (float) sum;
        }
        return y;
    }

    /** Q8_0 block: fp16 d, int8 qs[32]; element j is d * qs[j]. */
    public static float[] q8_0(MemorySegment weights, float[] x, int rows, int cols) {
        int blocksPerRow = cols / 32;
        float[] y = new float[rows];
        for (int row = 0; row < rows; row++) {
            double sum = 0;
            for (int b = 0; b < blocksPerRow; b++) {
                long block = ((long) row * blocksPerRow + b) * 34;
                double d = Float.float16ToFloat(weights.get(F16, block));
                for (int j = 0; j < 32; j++) {
                    sum += d * weights.get(ValueLayout.JAVA_BYTE, block + 2 + j) * x[b * 32 + j];
                }
            }
            y[row] = (float) sum;
        }
        return y;
    }

    /** Row-major fp16 matrix. */
    public static float[] f16(MemorySegment weights, float[] x, int rows, int cols) {
        float[] y = new float[rows];
        for (int row = 0; row < rows; row++) {
            double sum = 0;
            for (int col = 0; col < cols; col++) {
                sum += (double) Float.float16ToFloat(weights.get(F16, 2 * ((long) row * cols + col))) * x[col];
            }
            y[row] = (float) sum;
        }
        return y;
    }
}
