package io.panllm.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The little-endian, unaligned value layouts that every GGUF and safetensors byte is read and written
 * with. Tensor data in a memory-mapped file has no alignment guarantee, so every layout is unaligned.
 */
public final class LittleEndian {
    private LittleEndian() {
    }

    public static final ValueLayout.OfShort SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfFloat FLOAT =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfDouble DOUBLE =
            ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The IEEE half at {@code offset}, widened to float (exact). */
    public static float getFp16(MemorySegment segment, long offset) {
        return Float.float16ToFloat(segment.get(SHORT, offset));
    }

    /** Stores {@code value} as an IEEE half at {@code offset}, rounded as ggml rounds (see {@link HalfFloats}). */
    public static void setFp16(MemorySegment segment, long offset, float value) {
        segment.set(SHORT, offset, HalfFloats.toFp16(value));
    }

    /** Reads {@code count} float32 values starting at byte 0 of {@code segment}. */
    public static float[] getFloats(MemorySegment segment, int count) {
        float[] values = new float[count];
        MemorySegment.copy(segment, FLOAT, 0, values, 0, count);
        return values;
    }
}
