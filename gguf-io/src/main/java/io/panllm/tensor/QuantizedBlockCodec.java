package io.panllm.tensor;

import java.lang.foreign.MemorySegment;

/**
 * A codec for a block-quantized type, written one block at a time. A block is addressed by its byte
 * offset in the segment rather than by a slice: a slice object per 32 elements would be an
 * allocation per block on the hottest loop of a model conversion.
 */
abstract class QuantizedBlockCodec extends AbstractBlockCodec {

    QuantizedBlockCodec(GgmlType type) {
        super(type);
    }

    /** Decodes the block at {@code offset} into {@code type.blockSize} floats starting at dst[dstOffset]. */
    abstract void decodeBlock(MemorySegment src, long offset, float[] dst, int dstOffset);

    /** Encodes one block. An encoder may keep scratch arrays, so each quantize call makes its own. */
    interface BlockEncoder {
        void encodeBlock(float[] src, int srcOffset, MemorySegment dst, long offset);
    }

    abstract BlockEncoder newEncoder();

    /**
     * Encodes one row with importance weights qw[0, n) (one per column), as the type's
     * quantize_row_*_impl: some weights depend on the whole row, so this works on rows, not blocks.
     */
    interface WeightedRowEncoder {
        void encodeRow(float[] x, int xOffset, int n, float[] qw, MemorySegment dst, long offset);
    }

    /** The weighted encoder of a type whose {@link #usesImportance()} is true. */
    WeightedRowEncoder newWeightedEncoder() {
        throw new AssertionError(type + " does not use importance weights");
    }

    @Override
    final void encodeWeighted(float[] src, int srcOffset, int rows, int rowLength, float[] importance, MemorySegment dst) {
        WeightedRowEncoder encoder = newWeightedEncoder();
        long rowBytes = type.byteSize(rowLength);
        for (int r = 0; r < rows; r++) {
            encoder.encodeRow(src, srcOffset + r * rowLength, rowLength, importance, dst, r * rowBytes);
        }
    }

    @Override
    final void decode(MemorySegment src, float[] dst, int dstOffset, int blocks) {
        for (int b = 0; b < blocks; b++) {
            decodeBlock(src, (long) b * type.bytesPerBlock, dst, dstOffset + b * type.blockSize);
        }
    }

    @Override
    final void encode(float[] src, int srcOffset, int blocks, MemorySegment dst) {
        BlockEncoder encoder = newEncoder();
        for (int b = 0; b < blocks; b++) {
            encoder.encodeBlock(src, srcOffset + b * type.blockSize, dst, (long) b * type.bytesPerBlock);
        }
    }
}
