package io.panllm.kernels.reference;

import io.panllm.kernels.DecodeKernels;
import io.panllm.kernels.WeightFormat;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * CPU reference dequantization of one row of a matrix in a {@link WeightFormat} (GGUF block
 * layouts, ggml-common.h). Deliberately plain: kernels must not depend on gguf-io, which owns the
 * real codecs.
 */
public final class Dequantize {
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    /** ggml's kvalues_iq4nl. */
    private static final float[] IQ4_NL_VALUES = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
    /** bitsandbytes' NF4 table (get_4bit_type). */
    private static final float[] NF4_VALUES = {
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
        -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
        0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
        0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};
    /** bitsandbytes' FP4 (e2m1) table divided by 12 so that the largest is 1. */
    private static final float[] FP4_VALUES = {
        0.0f, 0.005208333333f, 0.66666667f, 1.0f, 0.33333333f, 0.5f, 0.16666667f, 0.25f,
        -0.0f, -0.005208333333f, -0.66666667f, -1.0f, -0.33333333f, -0.5f, -0.16666667f, -0.25f};

    private Dequantize() {
    }

    private static int unsignedByte(MemorySegment weights, long offset) {
        return weights.get(ValueLayout.JAVA_BYTE, offset) & 0xFF;
    }

    /**
     * ggml's dequantize_row_q4_K for one super-block (d, dmin, scales[12], qs[128]), or with
     * {@code highBits} dequantize_row_q5_K (d, dmin, scales[12], qh[32], qs[128]).
     */
    private static void q4_k(MemorySegment weights, long block, float[] values, int first, boolean highBits) {
        float d = Float.float16ToFloat(weights.get(F16, block));
        float dmin = Float.float16ToFloat(weights.get(F16, block + 2));
        long scales = block + 4;
        for (int sub = 0; sub < 8; sub++) {
            int scale;
            int min;
            if (sub < 4) {
                scale = unsignedByte(weights, scales + sub) & 63;
                min = unsignedByte(weights, scales + sub + 4) & 63;
            } else {
                scale = (unsignedByte(weights, scales + sub + 4) & 15) | (unsignedByte(weights, scales + sub - 4) >>> 6) << 4;
                min = (unsignedByte(weights, scales + sub + 4) >>> 4) | (unsignedByte(weights, scales + sub) >>> 6) << 4;
            }
            long quants = block + (highBits ? 48 : 16) + 32L * (sub / 2);
            for (int l = 0; l < 32; l++) {
                int packed = unsignedByte(weights, quants + l);
                int q = sub % 2 == 0 ? packed & 15 : packed >>> 4;
                if (highBits) {
                    q |= ((unsignedByte(weights, block + 16 + l) >>> sub) & 1) << 4;
                }
                values[first + 32 * sub + l] = d * scale * q - dmin * min;
            }
        }
    }

    /** ggml's dequantize_row_q6_K for one super-block: ql[128], qh[64], scales[16], d. */
    private static void q6_k(MemorySegment weights, long block, float[] values, int first) {
        float d = Float.float16ToFloat(weights.get(F16, block + 208));
        for (int half = 0; half < 2; half++) {
            long ql = block + 64L * half;
            long qh = block + 128 + 32L * half;
            long scales = block + 192 + 8L * half;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int low = unsignedByte(weights, ql + l);
                int lowFar = unsignedByte(weights, ql + l + 32);
                int high = unsignedByte(weights, qh + l);
                int q1 = ((low & 15) | ((high & 3) << 4)) - 32;
                int q2 = ((lowFar & 15) | (((high >>> 2) & 3) << 4)) - 32;
                int q3 = ((low >>> 4) | (((high >>> 4) & 3) << 4)) - 32;
                int q4 = ((lowFar >>> 4) | (((high >>> 6) & 3) << 4)) - 32;
                int out = first + 128 * half + l;
                values[out] = d * weights.get(ValueLayout.JAVA_BYTE, scales + is) * q1;
                values[out + 32] = d * weights.get(ValueLayout.JAVA_BYTE, scales + is + 2) * q2;
                values[out + 64] = d * weights.get(ValueLayout.JAVA_BYTE, scales + is + 4) * q3;
                values[out + 96] = d * weights.get(ValueLayout.JAVA_BYTE, scales + is + 6) * q4;
            }
        }
    }

    /** Row {@code row} of an embedding table in {@code format} (F32 rows, or a {@link WeightFormat}'s). */
    public static float[] row(DecodeKernels.RowFormat format, MemorySegment weights, int row, int cols) {
        if (format == DecodeKernels.RowFormat.F32) {
            return weights.asSlice(4L * row * cols, 4L * cols).toArray(ValueLayout.JAVA_FLOAT);
        }
        return row(WeightFormat.valueOf(format.name()), weights, row, cols);
    }

    /** Row {@code row} of a matrix of {@code cols} columns, as floats. */
    public static float[] row(WeightFormat format, MemorySegment weights, int row, int cols) {
        float[] values = new float[cols];
        long rowStart = row * format.rowBytes(cols);
        for (int b = 0; b < cols / format.blockSize; b++) {
            long block = rowStart + (long) b * format.blockBytes;
            int first = b * format.blockSize;
            switch (format) {
                case Q4_0 -> {
                    // fp16 d, qs[16]: element j = d * ((qs[j] & 15) - 8), element 16 + j = d * ((qs[j] >> 4) - 8)
                    float d = Float.float16ToFloat(weights.get(F16, block));
                    for (int j = 0; j < 16; j++) {
                        int packed = weights.get(ValueLayout.JAVA_BYTE, block + 2 + j) & 0xFF;
                        values[first + j] = d * ((packed & 15) - 8);
                        values[first + 16 + j] = d * ((packed >>> 4) - 8);
                    }
                }
                case Q8_0 -> {
                    // fp16 d, int8 qs[32]: element j = d * qs[j]
                    float d = Float.float16ToFloat(weights.get(F16, block));
                    for (int j = 0; j < 32; j++) {
                        values[first + j] = d * weights.get(ValueLayout.JAVA_BYTE, block + 2 + j);
                    }
                }
                case F16 -> {
                    for (int j = 0; j < format.blockSize; j++) {
                        values[first + j] = Float.float16ToFloat(weights.get(F16, block + 2L * j));
                    }
                }
                case BF16 -> {
                    for (int j = 0; j < format.blockSize; j++) {
                        values[first + j] = Float.intBitsToFloat((weights.get(F16, block + 2L * j) & 0xFFFF) << 16);
                    }
                }
                case IQ4_NL -> {
                    // as Q4_0, the nibble indexing kvalues_iq4nl
                    float d = Float.float16ToFloat(weights.get(F16, block));
                    for (int j = 0; j < 16; j++) {
                        int packed = weights.get(ValueLayout.JAVA_BYTE, block + 2 + j) & 0xFF;
                        values[first + j] = d * IQ4_NL_VALUES[packed & 15];
                        values[first + 16 + j] = d * IQ4_NL_VALUES[packed >>> 4];
                    }
                }
                case NF4, FP4 -> {
                    // fp16 absmax, 32 code bytes: element 2k in the high nibble of byte k
                    float[] table = format == WeightFormat.NF4 ? NF4_VALUES : FP4_VALUES;
                    float absmax = Float.float16ToFloat(weights.get(F16, block));
                    for (int k = 0; k < 32; k++) {
                        int packed = weights.get(ValueLayout.JAVA_BYTE, block + 2 + k) & 0xFF;
                        values[first + 2 * k] = absmax * table[packed >>> 4];
                        values[first + 2 * k + 1] = absmax * table[packed & 15];
                    }
                }
                case Q4_K -> q4_k(weights, block, values, first, false);
                case Q5_K -> q4_k(weights, block, values, first, true);
                case Q6_K -> q6_k(weights, block, values, first);
            }
        }
        return values;
    }
}
