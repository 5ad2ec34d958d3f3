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
     * Whether {@link #dequantize} is vectorised, so that decoding a row once and dotting the floats
     * with several activation vectors beats one {@link #dot} per activation.
     */
    default boolean decodesFast() {
        return false;
    }
}
