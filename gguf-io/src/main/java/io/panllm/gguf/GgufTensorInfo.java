package io.panllm.gguf;

import io.panllm.tensor.GgmlType;
import java.util.Arrays;

/**
 * One tensor's entry in a GGUF file.
 *
 * @param shape    dimensions in ggml order: {@code shape[0]} is the innermost (the row length)
 * @param offset   offset of the data from the start of the file's data section
 * @param byteSize bytes the data takes
 */
public record GgufTensorInfo(String name, long[] shape, GgmlType type, long offset, long byteSize) {

    public GgufTensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int dims() {
        return shape.length;
    }

    public long dim(int i) {
        return shape[i];
    }

    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Elements in one row (the innermost dimension). */
    public long rowLength() {
        return shape.length == 0 ? 1 : shape[0];
    }

    /** Number of rows: the product of all dimensions but the innermost. */
    public long rows() {
        return elementCount() / Math.max(1, rowLength());
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensorInfo t && name.equals(t.name) && Arrays.equals(shape, t.shape) && type == t.type
                && offset == t.offset && byteSize == t.byteSize;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }
}
