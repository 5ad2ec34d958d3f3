package io.panllm.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Reads little-endian values from a segment, checking every read against its end so that a
 * truncated or lying file ends in a {@link GgufException} naming the offset, never in an
 * IndexOutOfBoundsException or a huge allocation.
 */
final class SegmentCursor {
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Longest string we accept in metadata or a tensor name: far above any real one. */
    static final long MAX_STRING_BYTES = 256L << 20;

    private final MemorySegment segment;
    private final String source;
    private long position;

    SegmentCursor(MemorySegment segment, String source) {
        this.segment = segment;
        this.source = source;
    }

    long position() {
        return position;
    }

    long remaining() {
        return segment.byteSize() - position;
    }

    GgufException error(String what) {
        return new GgufException(source + " at offset " + position + ": " + what);
    }

    /** Fails unless {@code bytes} more bytes are available. */
    void need(long bytes, String what) {
        if (bytes < 0 || bytes > remaining()) {
            throw error("truncated or corrupt: " + what + " needs " + Long.toUnsignedString(bytes)
                    + " bytes, only " + remaining() + " left in the file");
        }
    }

    byte i8(String what) {
        need(1, what);
        return segment.get(ValueLayout.JAVA_BYTE, position++);
    }

    short i16(String what) {
        need(2, what);
        short v = segment.get(I16, position);
        position += 2;
        return v;
    }

    int i32(String what) {
        need(4, what);
        int v = segment.get(I32, position);
        position += 4;
        return v;
    }

    long i64(String what) {
        need(8, what);
        long v = segment.get(I64, position);
        position += 8;
        return v;
    }

    float f32(String what) {
        need(4, what);
        float v = segment.get(F32, position);
        position += 4;
        return v;
    }

    double f64(String what) {
        need(8, what);
        double v = segment.get(F64, position);
        position += 8;
        return v;
    }

    /** A GGUF string: u64 length then UTF-8 bytes (no terminator). */
    String string(String what) {
        long start = position;
        long length = i64(what + " length");
        if (length < 0 || length > MAX_STRING_BYTES) {
            position = start;
            throw error(what + ": string length " + Long.toUnsignedString(length) + " is not plausible");
        }
        need(length, what);
        byte[] bytes = segment.asSlice(position, length).toArray(ValueLayout.JAVA_BYTE);
        position += length;
        // Invalid UTF-8 becomes U+FFFD rather than refusing the file (llama.cpp does not check either).
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** Copies {@code count} elements of {@code elementBytes} each, after checking they exist. */
    MemorySegment slice(long count, int elementBytes, String what) {
        if (count < 0 || count > remaining() / elementBytes) {
            throw error(what + ": " + Long.toUnsignedString(count) + " elements of " + elementBytes
                    + " bytes do not fit in the " + remaining() + " bytes left");
        }
        MemorySegment s = segment.asSlice(position, count * elementBytes);
        position += count * elementBytes;
        return s;
    }

    void skipTo(long offset) {
        if (offset < position || offset > segment.byteSize()) {
            throw error("cannot move to offset " + offset);
        }
        position = offset;
    }
}
