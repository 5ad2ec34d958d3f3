package io.panllm.gguf;

/**
 * One metadata value with its GGUF type, so that a file can be written back byte for byte.
 * Scalars are boxed: UINT8/INT8 as Byte, UINT16/INT16 as Short, UINT32/INT32 as Integer,
 * UINT64/INT64 as Long (unsigned values keep their bit pattern), FLOAT32 Float, FLOAT64 Double,
 * BOOL Boolean, STRING String, ARRAY {@link GgufArray}.
 */
public record GgufValue(GgufValueType type, Object value) {

    public static GgufValue ofString(String s) {
        return new GgufValue(GgufValueType.STRING, s);
    }

    public static GgufValue ofUInt32(int v) {
        return new GgufValue(GgufValueType.UINT32, v);
    }

    public static GgufValue ofInt32(int v) {
        return new GgufValue(GgufValueType.INT32, v);
    }

    public static GgufValue ofUInt64(long v) {
        return new GgufValue(GgufValueType.UINT64, v);
    }

    public static GgufValue ofFloat32(float v) {
        return new GgufValue(GgufValueType.FLOAT32, v);
    }

    public static GgufValue ofBool(boolean v) {
        return new GgufValue(GgufValueType.BOOL, v);
    }

    public static GgufValue ofArray(GgufArray array) {
        return new GgufValue(GgufValueType.ARRAY, array);
    }

    /** The value as a long, for any integer type (unsigned types zero-extended). */
    public long asLong() {
        return switch (type) {
            case UINT8 -> Byte.toUnsignedLong((Byte) value);
            case INT8 -> (Byte) value;
            case UINT16 -> Short.toUnsignedLong((Short) value);
            case INT16 -> (Short) value;
            case UINT32 -> Integer.toUnsignedLong((Integer) value);
            case INT32 -> (Integer) value;
            case UINT64, INT64 -> (Long) value;
            default -> throw new IllegalStateException("not an integer: " + type);
        };
    }

    @Override
    public String toString() {
        return type == GgufValueType.ARRAY ? value.toString() : type.isInteger() ? Long.toString(asLong()) : String.valueOf(value);
    }
}
