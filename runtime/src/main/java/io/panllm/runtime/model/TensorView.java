package io.panllm.runtime.model;

import io.panllm.tensor.GgmlType;
import io.panllm.tensor.Int8RowWise;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A tensor's bytes in its stored type, without a copy: a slice of a GGUF mapping or of any
 * segment holding the same block layout (little-endian).
 *
 * @param shape     dimensions in ggml order: {@code shape[0]} is the row length (innermost)
 * @param rowScales null, or for LLM.int8 weights (type I8) the absmax of each row as bitsandbytes
 *                  stores it (SCB, from the companion tensor {@code X.scb}): w = q * SCB[row] / 127
 */
public record TensorView(String name, GgmlType type, long[] shape, MemorySegment data, float[] rowScales) {

    public TensorView(String name, GgmlType type, long[] shape, MemorySegment data) {
        this(name, type, shape, data, null);
    }

    public TensorView {
        shape = shape.clone();
        if (shape.length == 0) {
            throw new ModelException("tensor '" + name + "' has no dimensions");
        }
        long elements = 1;
        for (long d : shape) {
            if (d <= 0) {
                throw new ModelException("tensor '" + name + "' has dimension " + d + " in shape " + Arrays.toString(shape));
            }
            elements = Math.multiplyExact(elements, d);
        }
        if (shape[0] % type.blockSize != 0) {
            throw new ModelException("tensor '" + name + "' row length " + shape[0] + " is not a multiple of the "
                    + type + " block size " + type.blockSize);
        }
        long expected = type.byteSize(elements);
        if (data.byteSize() != expected) {
            throw new ModelException("tensor '" + name + "' " + type + " " + Arrays.toString(shape) + " needs " + expected
                    + " bytes but its data holds " + data.byteSize());
        }
        if (rowScales != null && (type != GgmlType.I8 || rowScales.length != elements / shape[0])) {
            throw new ModelException("tensor '" + name + "' " + type + " " + Arrays.toString(shape) + " cannot take "
                    + rowScales.length + " row scales (only I8 matrices take one per row)");
        }
    }

    /** This view with the row absmax values of LLM.int8 weights attached. */
    public TensorView withRowScales(float[] scb) {
        return new TensorView(name, type, shape, data, scb);
    }

    /** The factor that turns row r's int8 codes into weights (1 where the view has no row scales). */
    public float rowScale(long r) {
        return rowScales == null ? 1f : rowScales[(int) r] * Int8RowWise.INVERSE_127;
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Elements per row. */
    public long rowLength() {
        return shape[0];
    }

    /** Number of rows (product of every dimension but the first). */
    public long rows() {
        return shape[0] == 0 ? 0 : elementCount() / shape[0];
    }

    /** Bytes per row. */
    public long rowBytes() {
        return type.byteSize(shape[0]);
    }

    /** Row {@code r} as a slice. */
    public MemorySegment row(long r) {
        return data.asSlice(r * rowBytes(), rowBytes());
    }

    /** Whether the shape is exactly {@code expected} (ggml order), dimensions of 1 at the end ignored. */
    public boolean hasShape(long... expected) {
        return hasShape(shape, expected);
    }

    /** Whether {@code shape} is {@code expected}, trailing dimensions of 1 aside. */
    public static boolean hasShape(long[] shape, long... expected) {
        int n = shape.length;
        while (n > expected.length && shape[n - 1] == 1) {
            n--;
        }
        return Arrays.equals(shape, 0, n, expected, 0, expected.length);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorView t && name.equals(t.name) && type == t.type && Arrays.equals(shape, t.shape)
                && data.equals(t.data) && Arrays.equals(rowScales, t.rowScales);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }
}
