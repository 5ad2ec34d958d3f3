package io.panllm.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Little-endian, unaligned reads of the fields ggml blocks are made of. */
final class BlockBytes {
    static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private BlockBytes() {
    }

    /** An IEEE half at {@code offset}. */
    static float fp16(MemorySegment segment, long offset) {
        return Float.float16ToFloat(segment.get(SHORT_LE, offset));
    }

    /** A bfloat16 (the top half of a float32) at {@code offset}. */
    static float bf16(MemorySegment segment, long offset) {
        return Float.intBitsToFloat(segment.get(SHORT_LE, offset) << 16);
    }

    static float f32(MemorySegment segment, long offset) {
        return segment.get(FLOAT_LE, offset);
    }

    /** Unsigned byte at {@code offset}. */
    static int u8(MemorySegment segment, long offset) {
        return segment.get(ValueLayout.JAVA_BYTE, offset) & 0xFF;
    }

    /** Signed byte at {@code offset}. */
    static int i8(MemorySegment segment, long offset) {
        return segment.get(ValueLayout.JAVA_BYTE, offset);
    }
}
