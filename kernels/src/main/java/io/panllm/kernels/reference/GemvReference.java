package io.panllm.kernels.reference;

import io.panllm.kernels.WeightFormat;

import java.lang.foreign.MemorySegment;

/** CPU reference for the GEMV kernels: each row dequantized ({@link Dequantize}), the dot product in double. */
public final class GemvReference {
    private GemvReference() {
    }

    /** y = W x for W (rows x cols) in {@code format}. */
    public static float[] multiply(WeightFormat format, MemorySegment weights, float[] x, int rows, int cols) {
        float[] y = new float[rows];
        for (int row = 0; row < rows; row++) {
            float[] w = Dequantize.row(format, weights, row, cols);
            double sum = 0;
            for (int col = 0; col < cols; col++) {
                sum += (double) w[col] * x[col];
            }
            y[row] = (float) sum;
        }
        return y;
    }
}
