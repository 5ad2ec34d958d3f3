package io.panllm.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/** Reads metadata values (scalars and arrays, arrays nested to any sane depth). */
final class GgufValues {
    private GgufValues() {
    }

    /** Nested arrays deeper than this are refused: real files nest at most once. */
    static final int MAX_DEPTH = 8;
    /** Largest array accepted: real vocabularies hold well under a million entries. */
    static final int MAX_ARRAY_LENGTH = 1 << 24;

    static Object read(SegmentCursor in, GgufValueType type, String key, int depth) {
        return switch (type) {
            case UINT8, INT8 -> in.i8(key);
            case UINT16, INT16 -> in.i16(key);
            case UINT32, INT32 -> in.i32(key);
            case UINT64, INT64 -> in.i64(key);
            case FLOAT32 -> in.f32(key);
            case FLOAT64 -> in.f64(key);
            case BOOL -> readBool(in, key);
            case STRING -> in.string(key);
            case ARRAY -> readArray(in, key, depth);
        };
    }

    private static boolean readBool(SegmentCursor in, String key) {
        byte b = in.i8(key);
        if (b != 0 && b != 1) {
            throw in.error("metadata key '" + key + "': bool value " + b + " is neither 0 nor 1");
        }
        return b == 1;
    }

    private static GgufArray readArray(SegmentCursor in, String key, int depth) {
        if (depth >= MAX_DEPTH) {
            throw in.error("metadata key '" + key + "': arrays nested deeper than " + MAX_DEPTH);
        }
        int typeId = in.i32(key + " element type");
        GgufValueType elementType = GgufValueType.fromId(Integer.toUnsignedLong(typeId));
        if (elementType == null) {
            throw in.error("metadata key '" + key + "': unknown array element type " + Integer.toUnsignedString(typeId));
        }
        long count = in.i64(key + " array length");
        // The smallest element takes one byte (strings 8, arrays 12): a count the rest of the file
        // cannot hold is refused before anything is allocated.
        long minBytes = elementType.fixedSize > 0 ? elementType.fixedSize : elementType == GgufValueType.STRING ? 8 : 12;
        if (count < 0 || count > in.remaining() / minBytes || count > MAX_ARRAY_LENGTH) {
            throw in.error("metadata key '" + key + "': array length " + Long.toUnsignedString(count)
                    + " is larger than the file could hold (or than " + MAX_ARRAY_LENGTH + ")");
        }
        int n = (int) count;
        return switch (elementType) {
            case UINT8, INT8 -> new GgufArray(elementType, in.slice(n, 1, key).toArray(ValueLayout.JAVA_BYTE));
            case UINT16, INT16 -> new GgufArray(elementType, in.slice(n, 2, key).toArray(SegmentCursor.I16));
            case UINT32, INT32 -> new GgufArray(elementType, in.slice(n, 4, key).toArray(SegmentCursor.I32));
            case UINT64, INT64 -> new GgufArray(elementType, in.slice(n, 8, key).toArray(SegmentCursor.I64));
            case FLOAT32 -> new GgufArray(elementType, in.slice(n, 4, key).toArray(SegmentCursor.F32));
            case FLOAT64 -> new GgufArray(elementType, in.slice(n, 8, key).toArray(SegmentCursor.F64));
            case BOOL -> {
                MemorySegment bytes = in.slice(n, 1, key);
                boolean[] values = new boolean[n];
                for (int i = 0; i < n; i++) {
                    values[i] = bytes.get(ValueLayout.JAVA_BYTE, i) != 0;
                }
                yield new GgufArray(elementType, values);
            }
            case STRING -> {
                List<String> strings = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    strings.add(in.string(key + "[" + i + "]"));
                }
                yield new GgufArray(elementType, List.copyOf(strings));
            }
            case ARRAY -> {
                List<GgufArray> arrays = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    arrays.add(readArray(in, key + "[" + i + "]", depth + 1));
                }
                yield new GgufArray(elementType, List.copyOf(arrays));
            }
        };
    }
}
