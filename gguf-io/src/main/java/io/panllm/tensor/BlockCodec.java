package io.panllm.tensor;

import java.lang.foreign.MemorySegment;

/**
 * Converts between float32 values and one tensor type's blocks. Counts are in elements and must be
 * whole blocks; segments are read and written little-endian, unaligned.
 *
 * <p>Codecs are stateless and shared: one instance per type serves every thread at once.
 *
 * @throws IllegalArgumentException (from every method) when a count is negative or not a whole number
 *     of blocks, or a segment is too small for the blocks
 * @throws IndexOutOfBoundsException when an array range lies outside its array
 */
public interface BlockCodec {

    GgmlType type();

    /** Decodes {@code n} elements from {@code src} (at least {@code type().byteSize(n)} bytes) into dst. */
    void dequantize(MemorySegment src, float[] dst, int dstOffset, int n);

    /** Whether {@link #quantize} is implemented for this type. */
    default boolean canQuantize() {
        return true;
    }

    /**
     * Encodes {@code n} elements of src into the first {@code type().byteSize(n)} bytes of {@code dst}
     * (which must hold at least that many), exactly as llama.cpp's reference quantizer would.
     */
    void quantize(float[] src, int srcOffset, int n, MemorySegment dst);

    /**
     * Whether llama.cpp quantizes this type differently when given an importance matrix (its
     * quantize_row_*_impl with quant_weights): Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, IQ4_NL.
     * Q8_0 and the float types ignore it, as llama.cpp's do.
     */
    default boolean usesImportance() {
        return false;
    }

    /**
     * Quantizes {@code rows} rows of {@code rowLength} elements of src into dst, weighting column j
     * of every row by {@code importance[j]} (the imatrix entry of the tensor, length rowLength), as
     * llama.cpp's quantize_TYPE(src, dst, nrow, n_per_row, quant_weights) does: the same bytes. With
     * importance null, or for a type that does not use it, this is {@link #quantize}.
     *
     * @throws IllegalArgumentException when rowLength is not a whole number of blocks or importance
     *     has another length
     */
    default void quantizeRows(float[] src, int srcOffset, int rows, int rowLength, float[] importance, MemorySegment dst) {
        if (importance != null && usesImportance()) {
            throw new UnsupportedOperationException(type() + " codec has no importance-weighted quantizer");
        }
        quantize(src, srcOffset, Math.multiplyExact(rows, rowLength), dst);
    }

    /** Convenience: dequantizes a whole segment holding {@code n} elements. */
    default float[] dequantize(MemorySegment src, int n) {
        float[] out = new float[n];
        dequantize(src, out, 0, n);
        return out;
    }
}
