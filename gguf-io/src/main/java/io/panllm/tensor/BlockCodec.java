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

    /** Convenience: dequantizes a whole segment holding {@code n} elements. */
    default float[] dequantize(MemorySegment src, int n) {
        float[] out = new float[n];
        dequantize(src, out, 0, n);
        return out;
    }
}
