package io.panllm.safetensors;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import io.panllm.tensor.HalfFloats;
import io.panllm.tensor.LittleEndian;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;

/**
 * One tensor of a safetensors file: its header entry and a zero-copy slice of the mapped file
 * (valid until the file is closed). Shapes are in PyTorch order, row-major: the last dimension
 * varies fastest.
 *
 * @param data exactly {@code elementCount() * dtype.size} bytes
 */
public record SafetensorsTensor(String name, SafetensorsDtype dtype, long[] shape, MemorySegment data) {

    public SafetensorsTensor {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int index) {
        return shape[index];
    }

    public long elementCount() {
        return SafetensorsFile.elementCount(shape);
    }

    /**
     * Decodes elements {@code [first, first + count)} (flat row-major index) to float32 into
     * {@code dst[dstOffset ...]}. Integers and BOOL become their value, F64 is rounded.
     *
     * @throws SafetensorsException for the float8 types, which are recognised but not decoded
     */
    public void readFloats(long first, int count, float[] dst, int dstOffset) {
        Objects.checkFromIndexSize(first, count, elementCount());
        Objects.checkFromIndexSize(dstOffset, count, dst.length);
        long at = first * dtype.size;
        switch (dtype) {
            case F32 -> MemorySegment.copy(data, LittleEndian.FLOAT, at, dst, dstOffset, count);
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = HalfFloats.fromFp16(data.get(LittleEndian.SHORT, at + 2L * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = HalfFloats.fromBf16(data.get(LittleEndian.SHORT, at + 2L * i));
                }
            }
            case F64 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = (float) data.get(LittleEndian.DOUBLE, at + 8L * i);
                }
            }
            case I64 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = data.get(LittleEndian.LONG, at + 8L * i);
                }
            }
            case I32 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = data.get(LittleEndian.INT, at + 4L * i);
                }
            }
            case I16 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = data.get(LittleEndian.SHORT, at + 2L * i);
                }
            }
            case I8 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = data.get(JAVA_BYTE, at + i);
                }
            }
            case U8, BOOL -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = data.get(JAVA_BYTE, at + i) & 0xFF;
                }
            }
            case F8_E4M3, F8_E5M2 -> throw new SafetensorsException("tensor '" + name + "': decoding " + dtype
                    + " is not supported");
        }
    }

    /** The whole tensor as float32 (for small tensors: vectors, quantization side tables). */
    public float[] toFloats() {
        long n = elementCount();
        if (n > Integer.MAX_VALUE - 8) {
            throw new SafetensorsException("tensor '" + name + "' has " + n + " elements, too many for one array");
        }
        float[] out = new float[(int) n];
        readFloats(0, (int) n, out, 0);
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SafetensorsTensor t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && data.equals(t.data);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + Arrays.toString(shape);
    }
}
