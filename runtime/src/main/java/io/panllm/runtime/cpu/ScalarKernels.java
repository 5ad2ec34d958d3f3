package io.panllm.runtime.cpu;

import static io.panllm.runtime.cpu.BlockBytes.bf16;
import static io.panllm.runtime.cpu.BlockBytes.f32;
import static io.panllm.runtime.cpu.BlockBytes.fp16;
import static io.panllm.runtime.cpu.BlockBytes.i8;
import static io.panllm.runtime.cpu.BlockBytes.u8;

import io.panllm.tensor.GgmlType;
import io.panllm.tensor.UnsupportedTypeException;
import java.lang.foreign.MemorySegment;
import java.util.EnumSet;
import java.util.Set;

/**
 * The simple, obviously-correct path: one block decoder per type, written straight from the ggml
 * block structs (see {@link GgmlType}), and dot products over the decoded blocks. The vector
 * kernels are tested against these.
 */
final class ScalarKernels {
    private ScalarKernels() {
    }

    /** Types the CPU backend computes with. */
    static final Set<GgmlType> SUPPORTED = EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0,
            GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.IQ4_NL, GgmlType.NF4, GgmlType.FP4);

    static RowKernel of(GgmlType type) {
        BlockDecoder decoder = switch (type) {
            case F32 -> (b, at, out, o) -> out[o] = f32(b, at);
            case F16 -> (b, at, out, o) -> out[o] = fp16(b, at);
            case BF16 -> (b, at, out, o) -> out[o] = bf16(b, at);
            case Q8_0 -> ScalarKernels::decodeQ8_0;
            case Q4_0 -> ScalarKernels::decodeQ4_0;
            case Q4_1 -> ScalarKernels::decodeQ4_1;
            case IQ4_NL -> ScalarKernels::decodeIq4Nl;
            case Q4_K -> ScalarKernels::decodeQ4_K;
            case Q6_K -> ScalarKernels::decodeQ6_K;
            case NF4 -> (b, at, out, o) -> decodeBitsAndBytes4(b, at, out, o, FourBitTables.NF4);
            case FP4 -> (b, at, out, o) -> decodeBitsAndBytes4(b, at, out, o, FourBitTables.FP4);
            default -> throw new UnsupportedTypeException("the CPU backend cannot compute with " + type + " tensors");
        };
        return new BlockwiseKernel(type, decoder);
    }

    /** Decodes the block starting at byte {@code at} of {@code row} into {@code out[o .. o + blockSize)}. */
    @FunctionalInterface
    interface BlockDecoder {
        void decode(MemorySegment row, long at, float[] out, int o);
    }

    private record BlockwiseKernel(GgmlType type, BlockDecoder decoder) implements RowKernel {

        @Override
        public void dequantize(MemorySegment row, float[] out, int outOffset, int n) {
            int blocks = n / type.blockSize;
            for (int b = 0; b < blocks; b++) {
                decoder.decode(row, (long) b * type.bytesPerBlock, out, outOffset + b * type.blockSize);
            }
        }

        @Override
        public float dot(MemorySegment row, float[] x, int xOffset, int n) {
            float[] block = new float[type.blockSize];
            float sum = 0f;
            for (int b = 0; b < n / type.blockSize; b++) {
                decoder.decode(row, (long) b * type.bytesPerBlock, block, 0);
                for (int i = 0; i < block.length; i++) {
                    sum += block[i] * x[xOffset + b * type.blockSize + i];
                }
            }
            return sum;
        }
    }

    // Q8_0: d; qs[32] int8. x = d * q
    private static void decodeQ8_0(MemorySegment row, long at, float[] out, int o) {
        float d = fp16(row, at);
        for (int j = 0; j < 32; j++) {
            out[o + j] = d * i8(row, at + 2 + j);
        }
    }

    // Q4_0: d; qs[16]: element j in the low nibble of qs[j], element j + 16 in its high nibble. x = d * (q - 8)
    private static void decodeQ4_0(MemorySegment row, long at, float[] out, int o) {
        float d = fp16(row, at);
        for (int j = 0; j < 16; j++) {
            int q = u8(row, at + 2 + j);
            out[o + j] = d * ((q & 0xF) - 8);
            out[o + j + 16] = d * ((q >>> 4) - 8);
        }
    }

    // Q4_1: d, m; qs[16] as Q4_0. x = d * q + m
    private static void decodeQ4_1(MemorySegment row, long at, float[] out, int o) {
        float d = fp16(row, at);
        float m = fp16(row, at + 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(row, at + 4 + j);
            out[o + j] = d * (q & 0xF) + m;
            out[o + j + 16] = d * (q >>> 4) + m;
        }
    }

    // IQ4_NL: d; qs[16] as Q4_0, the code indexing kvalues_iq4nl. x = d * kvalues[q]
    private static void decodeIq4Nl(MemorySegment row, long at, float[] out, int o) {
        float d = fp16(row, at);
        for (int j = 0; j < 16; j++) {
            int q = u8(row, at + 2 + j);
            out[o + j] = d * FourBitTables.IQ4_NL[q & 0xF];
            out[o + j + 16] = d * FourBitTables.IQ4_NL[q >>> 4];
        }
    }

    // Q4_K: d, dmin; scales[12]; qs[128]. Four chunks of 64 elements, each two sub-blocks of 32
    // sharing 32 bytes of qs: the first sub-block in the low nibbles, the second in the high ones.
    // x = d * scale * q - dmin * min, 6-bit scale and min per sub-block.
    private static void decodeQ4_K(MemorySegment row, long at, float[] out, int o) {
        float d = fp16(row, at);
        float dmin = fp16(row, at + 2);
        long scales = at + 4;
        long qs = at + 16;
        for (int chunk = 0; chunk < 4; chunk++) {
            int low = 2 * chunk;
            int high = 2 * chunk + 1;
            float dLow = d * q4kScale(row, scales, low);
            float mLow = dmin * q4kMin(row, scales, low);
            float dHigh = d * q4kScale(row, scales, high);
            float mHigh = dmin * q4kMin(row, scales, high);
            for (int l = 0; l < 32; l++) {
                int q = u8(row, qs + 32 * chunk + l);
                out[o + 64 * chunk + l] = dLow * (q & 0xF) - mLow;
                out[o + 64 * chunk + 32 + l] = dHigh * (q >>> 4) - mHigh;
            }
        }
    }

    /**
     * The 6-bit scale of Q4_K sub-block j (ggml's get_scale_min_k4): sub-blocks 0-3 keep theirs in
     * the low 6 bits of scales[j]; 4-7 in the low nibble of scales[j + 4] plus the top 2 bits of
     * scales[j - 4].
     */
    static int q4kScale(MemorySegment row, long scales, int j) {
        if (j < 4) {
            return u8(row, scales + j) & 63;
        }
        return (u8(row, scales + j + 4) & 0xF) | ((u8(row, scales + j - 4) >>> 6) << 4);
    }

    /** The 6-bit min of Q4_K sub-block j: scales[j + 4] low 6 bits, or the high nibble of scales[j + 4] plus the top bits of scales[j]. */
    static int q4kMin(MemorySegment row, long scales, int j) {
        if (j < 4) {
            return u8(row, scales + j + 4) & 63;
        }
        return (u8(row, scales + j + 4) >>> 4) | ((u8(row, scales + j) >>> 6) << 4);
    }

    // Q6_K: ql[128], qh[64], scales[16] int8, d. Two halves of 128 elements; in a half, element
    // l + 32 * k (k = 0..3, l = 0..31) takes its low 4 bits from ql[l + 32 * (k & 1)] (low nibble
    // for k < 2, high for k >= 2) and its top 2 bits from bits 2k..2k+1 of qh[l]; 16 elements share
    // a scale. x = d * scale * (q - 32)
    private static void decodeQ6_K(MemorySegment row, long at, float[] out, int o) {
        float d = fp16(row, at + 208);
        for (int half = 0; half < 2; half++) {
            long ql = at + 64 * half;
            long qh = at + 128 + 32 * half;
            long sc = at + 192 + 8 * half;
            for (int l = 0; l < 32; l++) {
                int lowA = u8(row, ql + l);
                int lowB = u8(row, ql + 32 + l);
                int high = u8(row, qh + l);
                int q1 = ((lowA & 0xF) | ((high & 3) << 4)) - 32;
                int q2 = ((lowB & 0xF) | (((high >>> 2) & 3) << 4)) - 32;
                int q3 = ((lowA >>> 4) | (((high >>> 4) & 3) << 4)) - 32;
                int q4 = ((lowB >>> 4) | (((high >>> 6) & 3) << 4)) - 32;
                int is = l / 16;
                int y = o + 128 * half + l;
                out[y] = d * i8(row, sc + is) * q1;
                out[y + 32] = d * i8(row, sc + is + 2) * q2;
                out[y + 64] = d * i8(row, sc + is + 4) * q3;
                out[y + 96] = d * i8(row, sc + is + 6) * q4;
            }
        }
    }

    // NF4 / FP4 (bitsandbytes, re-blocked): absmax (fp16); 32 bytes, element 2j in the HIGH nibble
    // of byte j and element 2j + 1 in the low one. x = absmax * table[q]
    private static void decodeBitsAndBytes4(MemorySegment row, long at, float[] out, int o, float[] table) {
        float absmax = fp16(row, at);
        for (int j = 0; j < 32; j++) {
            int q = u8(row, at + 2 + j);
            out[o + 2 * j] = absmax * table[q >>> 4];
            out[o + 2 * j + 1] = absmax * table[q & 0xF];
        }
    }
}
