package io.panllm.safetensors;

import io.panllm.tensor.LittleEndian;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Objects;

/**
 * One tensor of a safetensors file: its name, dtype, shape and a zero-copy slice of the mapped
 * file holding exactly its bytes (valid while the file is open).
 *
 * <p>{@code shape} is in PyTorch order, outermost first: a Linear weight is [out_features,
 * in_features] and its rows are the last dimension. GGUF lists the same dimensions innermost first;
 * {@link #ggmlShape()} gives that order.
 */
public record SafetensorsTensor(String name, SafetensorsDtype dtype, long[] shape, MemorySegment data) {

    public SafetensorsTensor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements: the product of the shape (1 for a scalar). */
    public long elementCount() {
        return elementCount(shape);
    }

    /** Length of a row: the last dimension (1 for a scalar). */
    public long rowLength() {
        return shape.length == 0 ? 1 : shape[shape.length - 1];
    }

    /** Number of rows: the product of all dimensions but the last. */
    public long rows() {
        long rowLength = rowLength();
        return rowLength == 0 ? 0 : elementCount() / rowLength;
    }

    /** The shape innermost first, as GGUF and ggml write it. */
    public long[] ggmlShape() {
        long[] reversed = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            reversed[i] = shape[shape.length - 1 - i];
        }
        return reversed;
    }

    /** The whole tensor as float32 (see {@link #readFloats}). */
    public float[] toFloats() {
        long n = elementCount();
        if (n > Integer.MAX_VALUE - 8) {
            throw new SafetensorsException("tensor '" + name + "': " + n + " elements do not fit in one float array");
        }
        float[] out = new float[(int) n];
        readFloats(0, out, 0, out.length);
        return out;
    }

    /** Rows [first, first + count) as float32 into dst from index 0. */
    public void readRows(long first, int count, float[] dst) {
        long rowLength = rowLength();
        readFloats(Math.multiplyExact(first, rowLength), dst, 0, Math.toIntExact(Math.multiplyExact(count, rowLength)));
    }

    /**
     * Converts elements [start, start + n) to float32 into dst[dstOffset...]. Floats widen exactly
     * (F64 rounds to nearest; FP8 E4M3 and E5M2 exactly), integers convert as Java's int-to-float
     * does, BOOL gives 0 or 1.
     */
    public void readFloats(long start, float[] dst, int dstOffset, int n) {
        Objects.checkFromIndexSize(start, n, elementCount());
        Objects.checkFromIndexSize(dstOffset, n, dst.length);
        long at = start * dtype.byteSize;
        switch (dtype) {
            case F32 -> MemorySegment.copy(data, LittleEndian.FLOAT, at, dst, dstOffset, n);
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = Float.float16ToFloat(data.get(LittleEndian.SHORT, at + 2L * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = Float.intBitsToFloat(data.get(LittleEndian.SHORT, at + 2L * i) << 16);
                }
            }
            case F64 -> {
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = (float) data.get(LittleEndian.DOUBLE, at + 8L * i);
                }
            }
            case I64, U64 -> {
                for (int i = 0; i < n; i++) {
                    long v = data.get(LittleEndian.LONG, at + 8L * i);
                    dst[dstOffset + i] = dtype == SafetensorsDtype.U64 && v < 0 ? unsignedLongToFloat(v) : v;
                }
            }
            case I32 -> {
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = data.get(LittleEndian.INT, at + 4L * i);
                }
            }
            case U32 -> {
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = Integer.toUnsignedLong(data.get(LittleEndian.INT, at + 4L * i));
                }
            }
            case I16 -> {
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = data.get(LittleEndian.SHORT, at + 2L * i);
                }
            }
            case U16 -> {
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = Short.toUnsignedInt(data.get(LittleEndian.SHORT, at + 2L * i));
                }
            }
            case I8 -> {
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = data.get(ValueLayout.JAVA_BYTE, at + i);
                }
            }
            case U8 -> {
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = Byte.toUnsignedInt(data.get(ValueLayout.JAVA_BYTE, at + i));
                }
            }
            case BOOL -> {
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = data.get(ValueLayout.JAVA_BYTE, at + i) != 0 ? 1f : 0f;
                }
            }
            case F8_E4M3 -> {
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = e4m3ToFloat(data.get(ValueLayout.JAVA_BYTE, at + i));
                }
            }
            case F8_E5M2 -> {
                for (int i = 0; i < n; i++) { // the top byte of an IEEE half
                    dst[dstOffset + i] = Float.float16ToFloat((short) (data.get(ValueLayout.JAVA_BYTE, at + i) << 8));
                }
            }
        }
    }

    /**
     * OCP FP8 E4M3 ("e4m3fn", torch.float8_e4m3fn): sign, 4 exponent bits (bias 7), 3 mantissa
     * bits, subnormals, no infinities, S.1111.111 is NaN; the largest value is 448.
     */
    static float e4m3ToFloat(byte bits) {
        int exponent = (bits >>> 3) & 0xF;
        int mantissa = bits & 0x7;
        float sign = bits < 0 ? -1f : 1f;
        if (exponent == 0xF && mantissa == 0x7) {
            return Float.NaN;
        }
        if (exponent == 0) {
            return sign * Math.scalb(mantissa / 8f, -6);
        }
        return sign * Math.scalb(1 + mantissa / 8f, exponent - 7);
    }

    /** The bytes as a Java array (for small tensors such as a bitsandbytes quant state). */
    public byte[] toByteArray() {
        if (data.byteSize() > Integer.MAX_VALUE - 8) {
            throw new SafetensorsException("tensor '" + name + "': " + data.byteSize() + " bytes do not fit in one array");
        }
        return data.toArray(ValueLayout.JAVA_BYTE);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }

    /** A uint64 with its top bit set: halve it (keeping the lost bit as a sticky bit so rounding is right), double it back. */
    private static float unsignedLongToFloat(long v) {
        return Math.scalb((float) ((v >>> 1) | (v & 1)), 1);
    }

    /** Product of dimensions; throws ArithmeticException on overflow. */
    static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }
}
