package io.panllm.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/** Checks a codec call's arguments once, then hands whole blocks to the type's own code. */
abstract class AbstractBlockCodec implements BlockCodec {
    final GgmlType type;

    AbstractBlockCodec(GgmlType type) {
        this.type = type;
    }

    @Override
    public final GgmlType type() {
        return type;
    }

    /** Decodes {@code blocks} blocks from the start of {@code src} into dst[dstOffset...]. */
    abstract void decode(MemorySegment src, float[] dst, int dstOffset, int blocks);

    /** Encodes {@code blocks} blocks of src[srcOffset...] into the start of {@code dst}. */
    abstract void encode(float[] src, int srcOffset, int blocks, MemorySegment dst);

    @Override
    public final void dequantize(MemorySegment src, float[] dst, int dstOffset, int n) {
        int blocks = checkBlocks(n, src, "source");
        Objects.checkFromIndexSize(dstOffset, n, dst.length);
        decode(src, dst, dstOffset, blocks);
    }

    /** Checks the count against the segment before allocating, so a bogus count cannot exhaust the heap. */
    @Override
    public final float[] dequantize(MemorySegment src, int n) {
        int blocks = checkBlocks(n, src, "source");
        float[] out = new float[n];
        decode(src, out, 0, blocks);
        return out;
    }

    @Override
    public final void quantize(float[] src, int srcOffset, int n, MemorySegment dst) {
        int blocks = checkBlocks(n, dst, "destination");
        Objects.checkFromIndexSize(srcOffset, n, src.length);
        encode(src, srcOffset, blocks, dst);
    }

    /** Encodes whole rows with importance weights; only called when {@link #usesImportance()} is true. */
    void encodeWeighted(float[] src, int srcOffset, int rows, int rowLength, float[] importance, MemorySegment dst) {
        throw new AssertionError(type + " does not use importance weights");
    }

    @Override
    public final void quantizeRows(float[] src, int srcOffset, int rows, int rowLength, float[] importance,
            MemorySegment dst) {
        if (rows < 0 || rowLength < 0 || rowLength % type.blockSize != 0) {
            throw new IllegalArgumentException(type + ": rows of " + rowLength + " elements are not a whole number of "
                    + type.blockSize + "-element blocks");
        }
        int n = Math.multiplyExact(rows, rowLength);
        if (importance == null || !usesImportance()) {
            quantize(src, srcOffset, n, dst);
            return;
        }
        if (importance.length != rowLength) {
            throw new IllegalArgumentException(type + ": " + importance.length + " importance weights for rows of "
                    + rowLength + " elements");
        }
        checkBlocks(n, dst, "destination");
        Objects.checkFromIndexSize(srcOffset, n, src.length);
        encodeWeighted(src, srcOffset, rows, rowLength, importance, dst);
    }

    /** Returns the number of blocks in {@code n} elements after checking that the segment can hold them. */
    private int checkBlocks(int n, MemorySegment segment, String role) {
        if (n < 0 || n % type.blockSize != 0) {
            throw new IllegalArgumentException(type + ": " + n + " elements is not a whole number of "
                    + type.blockSize + "-element blocks");
        }
        long needed = (long) (n / type.blockSize) * type.bytesPerBlock;
        if (segment.byteSize() < needed) {
            throw new IllegalArgumentException(type + ": " + n + " elements take " + needed
                    + " bytes but the " + role + " segment holds only " + segment.byteSize());
        }
        return n / type.blockSize;
    }

    @Override
    public String toString() {
        return type + " codec";
    }
}
