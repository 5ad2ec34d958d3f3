package io.panllm.runtime.cpu;

import io.panllm.tensor.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * Computes with the rows of a matrix stored in one tensor type, reading its blocks in place (the
 * model is never dequantized as a whole). A row segment holds {@code n} elements, a whole number
 * of blocks.
 */
interface RowKernel {

    GgmlType type();

    /** The dot product of the row with {@code x[xOffset .. xOffset + n)}. */
    float dot(MemorySegment row, float[] x, int xOffset, int n);

    /** Decodes the row into {@code out[outOffset .. outOffset + n)}. */
    void dequantize(MemorySegment row, float[] out, int outOffset, int n);

    /**
     * Dots the row with {@code batch} activation vectors laid out one after the other in {@code x}
     * ({@code n} floats each), writing result b to {@code out[outOffset + b * outStride]}. The row
     * comes from memory once; the repeated reads hit the cache.
     */
    default void dotBatch(MemorySegment row, float[] x, int n, int batch, float[] out, int outOffset, int outStride) {
        for (int b = 0; b < batch; b++) {
            out[outOffset + b * outStride] = dot(row, x, b * n, n);
        }
    }
}
