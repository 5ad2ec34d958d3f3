package io.panllm.gguf;

import java.util.List;

/**
 * A metadata array. {@code values} is a primitive array for numeric and bool element types
 * (byte[] for UINT8/INT8, short[] for UINT16/INT16, int[] for UINT32/INT32, long[] for
 * UINT64/INT64, float[], double[], boolean[]), a {@code List<String>} for STRING and a
 * {@code List<GgufArray>} for nested arrays.
 */
public record GgufArray(GgufValueType elementType, Object values) {

    public int length() {
        return switch (values) {
            case byte[] a -> a.length;
            case short[] a -> a.length;
            case int[] a -> a.length;
            case long[] a -> a.length;
            case float[] a -> a.length;
            case double[] a -> a.length;
            case boolean[] a -> a.length;
            case List<?> l -> l.size();
            default -> throw new IllegalStateException("bad array payload " + values.getClass());
        };
    }

    public static GgufArray ofStrings(List<String> strings) {
        return new GgufArray(GgufValueType.STRING, List.copyOf(strings));
    }

    public static GgufArray ofFloats(float[] v) {
        return new GgufArray(GgufValueType.FLOAT32, v);
    }

    public static GgufArray ofInt32s(int[] v) {
        return new GgufArray(GgufValueType.INT32, v);
    }

    @Override
    public String toString() {
        int n = length();
        String first = switch (values) {
            case List<?> l -> n == 0 ? "" : String.valueOf(l.get(0));
            case float[] a -> n == 0 ? "" : Float.toString(a[0]);
            case int[] a -> n == 0 ? "" : Integer.toString(a[0]);
            default -> "";
        };
        return "[" + elementType.name().toLowerCase() + " x " + n + (first.isEmpty() ? "" : ": " + first + ", ...") + "]";
    }
}
