package io.panllm.runtime.cpu;

import static io.panllm.runtime.cpu.BlockBytes.bf16;
import static io.panllm.runtime.cpu.BlockBytes.f32;
import static io.panllm.runtime.cpu.BlockBytes.fp16;
import static io.panllm.runtime.cpu.BlockBytes.i8;
import static io.panllm.runtime.cpu.BlockBytes.u8;

import io.panllm.tensor.Bnb4bit;
import io.panllm.tensor.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Dot products with the Java Vector API, one kernel per type, computing on the blocks as stored
 * (layouts: see {@link GgmlType}): quantized codes are widened to floats a vector at a time and
 * multiplied into the activations, the block scale applied once per block (llama3.java's
 * approach). The hot types also decode whole rows with vectors (for batches); the others decode
 * with the codec.
 *
 * <p>Works for any float vector length up to 16 lanes: 16 quantized bytes widen to 16 / L float
 * vectors.
 */
final class VectorKernels {
    private VectorKernels() {
    }

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.length() * 16));
    static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    static final int L = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    static RowKernel of(GgmlType type) {
        RowKernel scalar = ScalarKernels.of(type);
        return switch (type) {
            case F32 -> new Kernel(scalar, VectorKernels::dotF32, VectorKernels::decodeF32);
            case F16 -> new Kernel(scalar, VectorKernels::dotF16, VectorKernels::decodeF16);
            case BF16 -> new Kernel(scalar, VectorKernels::dotBf16, VectorKernels::decodeBf16);
            case Q8_0 -> new Kernel(scalar, VectorKernels::dotQ8_0, VectorKernels::decodeQ8_0);
            case Q4_0 -> new Kernel(scalar, VectorKernels::dotQ4_0, VectorKernels::decodeQ4_0);
            case Q4_1 -> new Kernel(scalar, VectorKernels::dotQ4_1, null);
            case IQ4_NL -> new Kernel(scalar, VectorKernels::dotIq4Nl, null);
            case Q4_K -> new Kernel(scalar, VectorKernels::dotQ4_K, null);
            case Q6_K -> new Kernel(scalar, VectorKernels::dotQ6_K, null);
            case NF4 -> L == 16 ? new Kernel(scalar, (r, x, o, n) -> dotBitsAndBytes4(r, x, o, n, NF4_TABLE), null) : scalar;
            case FP4 -> L == 16 ? new Kernel(scalar, (r, x, o, n) -> dotBitsAndBytes4(r, x, o, n, FP4_TABLE), null) : scalar;
            default -> scalar;
        };
    }

    @FunctionalInterface
    interface Dot {
        float dot(MemorySegment row, float[] x, int xOffset, int n);
    }

    @FunctionalInterface
    interface Decode {
        void decode(MemorySegment row, float[] out, int outOffset, int n);
    }

    /** A type's vector dot, and its vector row decoder if it has one (else the scalar one decodes). */
    private record Kernel(RowKernel scalar, Dot vectorDot, Decode vectorDecode) implements RowKernel {
        @Override
        public GgmlType type() {
            return scalar.type();
        }

        @Override
        public float dot(MemorySegment row, float[] x, int xOffset, int n) {
            return vectorDot.dot(row, x, xOffset, n);
        }

        @Override
        public void dequantize(MemorySegment row, float[] out, int outOffset, int n) {
            if (vectorDecode != null) {
                vectorDecode.decode(row, out, outOffset, n);
            } else {
                scalar.dequantize(row, out, outOffset, n);
            }
        }

        @Override
        public boolean decodesFast() {
            return vectorDecode != null;
        }
    }

    /**
     * acc + the 16 signed bytes of {@code q} (as floats) times {@code x[xOffset .. xOffset + 16)}.
     */
    private static FloatVector fmaBytes(ByteVector q, float[] x, int xOffset, FloatVector acc) {
        for (int part = 0; part < 16 / L; part++) {
            FloatVector qf = (FloatVector) q.convertShape(VectorOperators.B2F, F, part);
            acc = qf.fma(FloatVector.fromArray(F, x, xOffset + part * L), acc);
        }
        return acc;
    }

    /** acc + sum * scale: a block's (or sub-block's) sum, scaled once. */
    private static FloatVector addScaled(FloatVector acc, FloatVector sum, float scale) {
        return sum.fma(FloatVector.broadcast(F, scale), acc);
    }

    /** Sum of x[xOffset .. xOffset + 32) as a vector of partial sums. */
    private static FloatVector sum32(float[] x, int xOffset) {
        FloatVector sum = FloatVector.fromArray(F, x, xOffset);
        for (int i = L; i < 32; i += L) {
            sum = sum.add(FloatVector.fromArray(F, x, xOffset + i));
        }
        return sum;
    }

    private static ByteVector load16(MemorySegment row, long offset) {
        return ByteVector.fromMemorySegment(B16, row, offset, LE);
    }

    private static ByteVector lowNibbles(ByteVector q) {
        return q.and((byte) 0xF);
    }

    /** x86 has no byte shift: shift 32-bit lanes, then mask each byte (llama.cpp's trick). */
    private static ByteVector highNibbles(ByteVector q) {
        return q.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0xF);
    }

    /** Stores the 16 signed bytes of q, as floats times scale, at out[o .. o + 16). */
    private static void storeBytes(ByteVector q, float scale, float[] out, int o) {
        for (int part = 0; part < 16 / L; part++) {
            ((FloatVector) q.convertShape(VectorOperators.B2F, F, part)).mul(scale).intoArray(out, o + part * L);
        }
    }

    // ---- row decoders for batches (decode once, dot with every activation vector)

    private static void decodeF32(MemorySegment row, float[] out, int outOffset, int n) {
        MemorySegment.copy(row, BlockBytes.FLOAT_LE, 0, out, outOffset, n);
    }

    private static void decodeF16(MemorySegment row, float[] out, int outOffset, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            halfToFloat(ShortVector.fromMemorySegment(S, row, 2L * i, LE)).intoArray(out, outOffset + i);
        }
        for (; i < n; i++) {
            out[outOffset + i] = fp16(row, 2L * i);
        }
    }

    private static void decodeBf16(MemorySegment row, float[] out, int outOffset, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            ShortVector halves = ShortVector.fromMemorySegment(S, row, 2L * i, LE);
            ((IntVector) halves.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16)
                    .reinterpretAsFloats().intoArray(out, outOffset + i);
        }
        for (; i < n; i++) {
            out[outOffset + i] = bf16(row, 2L * i);
        }
    }

    private static void decodeQ8_0(MemorySegment row, float[] out, int outOffset, int n) {
        for (int b = 0; b < n / 32; b++) {
            long at = 34L * b;
            float d = fp16(row, at);
            storeBytes(load16(row, at + 2), d, out, outOffset + 32 * b);
            storeBytes(load16(row, at + 18), d, out, outOffset + 32 * b + 16);
        }
    }

    private static void decodeQ4_0(MemorySegment row, float[] out, int outOffset, int n) {
        for (int b = 0; b < n / 32; b++) {
            long at = 18L * b;
            float d = fp16(row, at);
            ByteVector qs = load16(row, at + 2);
            storeBytes(lowNibbles(qs).sub((byte) 8), d, out, outOffset + 32 * b);
            storeBytes(highNibbles(qs).sub((byte) 8), d, out, outOffset + 32 * b + 16);
        }
    }

    // ---- float types: L elements per step, scalar tail for short rows

    private static float dotF32(MemorySegment row, float[] x, int xOffset, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - L; i += L) {
            acc = FloatVector.fromMemorySegment(F, row, 4L * i, LE).fma(FloatVector.fromArray(F, x, xOffset + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += f32(row, 4L * i) * x[xOffset + i];
        }
        return sum;
    }

    private static float dotF16(MemorySegment row, float[] x, int xOffset, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - L; i += L) {
            ShortVector halves = ShortVector.fromMemorySegment(S, row, 2L * i, LE);
            acc = halfToFloat(halves).fma(FloatVector.fromArray(F, x, xOffset + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += fp16(row, 2L * i) * x[xOffset + i];
        }
        return sum;
    }

    /**
     * IEEE half to float without a lookup: the half's exponent and mantissa shifted into a float's
     * place and multiplied by 2^112 (the difference of the exponent biases) is exact for normal and
     * subnormal halves; infinities and NaNs get the float's all-ones exponent instead.
     */
    static FloatVector halfToFloat(ShortVector halves) {
        IntVector h = (IntVector) halves.convertShape(VectorOperators.S2I, I, 0);
        IntVector magnitude = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13);
        FloatVector value = magnitude.reinterpretAsFloats().mul(0x1p112f);
        VectorMask<Integer> infOrNan = h.and(0x7C00).eq(0x7C00);
        IntVector bits = value.reinterpretAsInts().blend(magnitude.or(0x7F800000), infOrNan);
        IntVector sign = h.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        return bits.or(sign).reinterpretAsFloats();
    }

    private static float dotBf16(MemorySegment row, float[] x, int xOffset, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - L; i += L) {
            ShortVector halves = ShortVector.fromMemorySegment(S, row, 2L * i, LE);
            IntVector bits = ((IntVector) halves.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16);
            acc = bits.reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xOffset + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += bf16(row, 2L * i) * x[xOffset + i];
        }
        return sum;
    }

    // ---- 32-element blocks: per block, sum q * x in a vector, then scale once

    private static float dotQ8_0(MemorySegment row, float[] x, int xOffset, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            long at = 34L * b;
            int xb = xOffset + 32 * b;
            FloatVector sum = fmaBytes(load16(row, at + 2), x, xb, FloatVector.zero(F));
            sum = fmaBytes(load16(row, at + 18), x, xb + 16, sum);
            acc = addScaled(acc, sum, fp16(row, at));
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    private static float dotQ4_0(MemorySegment row, float[] x, int xOffset, int n) {
        // Two blocks per step into two accumulators: the scaled adds of consecutive blocks do not wait on each other.
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int blocks = n / 32;
        int b = 0;
        for (; b + 1 < blocks; b += 2) {
            acc0 = addScaled(acc0, q4_0BlockSum(row, 18L * b, x, xOffset + 32 * b), fp16(row, 18L * b));
            acc1 = addScaled(acc1, q4_0BlockSum(row, 18L * (b + 1), x, xOffset + 32 * (b + 1)), fp16(row, 18L * (b + 1)));
        }
        if (b < blocks) {
            acc0 = addScaled(acc0, q4_0BlockSum(row, 18L * b, x, xOffset + 32 * b), fp16(row, 18L * b));
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    /** (q - 8) . x over the Q4_0 block at {@code at}, unscaled. */
    private static FloatVector q4_0BlockSum(MemorySegment row, long at, float[] x, int xb) {
        ByteVector qs = load16(row, at + 2);
        FloatVector sum = fmaBytes(lowNibbles(qs).sub((byte) 8), x, xb, FloatVector.zero(F));
        return fmaBytes(highNibbles(qs).sub((byte) 8), x, xb + 16, sum);
    }

    // Q4_1: sum d * q * x + m * x = d * (q . x) + m * sum(x)
    private static float dotQ4_1(MemorySegment row, float[] x, int xOffset, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            long at = 20L * b;
            int xb = xOffset + 32 * b;
            ByteVector qs = load16(row, at + 4);
            FloatVector sum = fmaBytes(lowNibbles(qs), x, xb, FloatVector.zero(F));
            sum = fmaBytes(highNibbles(qs), x, xb + 16, sum);
            acc = addScaled(acc, sum, fp16(row, at));
            acc = addScaled(acc, sum32(x, xb), fp16(row, at + 2));
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** llama.cpp's kvalues_iq4nl (the codec holds the same table; a test checks they agree). */
    static final byte[] IQ4_NL_VALUES = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
    private static final ByteVector IQ4_NL_TABLE = ByteVector.fromArray(B16, IQ4_NL_VALUES, 0);

    private static float dotIq4Nl(MemorySegment row, float[] x, int xOffset, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            long at = 18L * b;
            int xb = xOffset + 32 * b;
            ByteVector qs = load16(row, at + 2);
            FloatVector sum = fmaBytes(lowNibbles(qs).selectFrom(IQ4_NL_TABLE), x, xb, FloatVector.zero(F));
            sum = fmaBytes(highNibbles(qs).selectFrom(IQ4_NL_TABLE), x, xb + 16, sum);
            acc = addScaled(acc, sum, fp16(row, at));
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    // ---- k-quants: 256-element super-blocks

    private static float dotQ4_K(MemorySegment row, float[] x, int xOffset, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 256; b++) {
            long at = 144L * b;
            float d = fp16(row, at);
            float dmin = fp16(row, at + 2);
            long scales = at + 4;
            for (int chunk = 0; chunk < 4; chunk++) {
                int xc = xOffset + 256 * b + 64 * chunk;
                ByteVector first = load16(row, at + 16 + 32 * chunk);
                ByteVector second = load16(row, at + 16 + 32 * chunk + 16);
                FloatVector low = fmaBytes(lowNibbles(first), x, xc, FloatVector.zero(F));
                low = fmaBytes(lowNibbles(second), x, xc + 16, low);
                FloatVector high = fmaBytes(highNibbles(first), x, xc + 32, FloatVector.zero(F));
                high = fmaBytes(highNibbles(second), x, xc + 48, high);
                int sub = 2 * chunk;
                acc = addScaled(acc, low, d * q4kScale(row, scales, sub));
                acc = addScaled(acc, sum32(x, xc), -dmin * q4kMin(row, scales, sub));
                acc = addScaled(acc, high, d * q4kScale(row, scales, sub + 1));
                acc = addScaled(acc, sum32(x, xc + 32), -dmin * q4kMin(row, scales, sub + 1));
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /**
     * The 6-bit scale of Q4_K sub-block j (ggml's get_scale_min_k4): sub-blocks 0-3 keep theirs in
     * the low 6 bits of scales[j]; 4-7 in the low nibble of scales[j + 4] plus the top 2 bits of
     * scales[j - 4].
     */
    private static int q4kScale(MemorySegment row, long scales, int j) {
        if (j < 4) {
            return u8(row, scales + j) & 63;
        }
        return (u8(row, scales + j + 4) & 0xF) | ((u8(row, scales + j - 4) >>> 6) << 4);
    }

    /** The 6-bit min of Q4_K sub-block j: scales[j + 4] low 6 bits, or the high nibble of scales[j + 4] plus the top bits of scales[j]. */
    private static int q4kMin(MemorySegment row, long scales, int j) {
        if (j < 4) {
            return u8(row, scales + j + 4) & 63;
        }
        return (u8(row, scales + j + 4) >>> 4) | ((u8(row, scales + j) >>> 6) << 4);
    }

    // Q6_K: ql[128], qh[64], scales[16] int8, d. Two halves of 128 elements; in a half, element
    // l + 32 * k (k = 0..3, l = 0..31) takes its low 4 bits from ql[l + 32 * (k & 1)] (low nibble
    // for k < 2, high for k >= 2) and its top 2 bits from bits 2k..2k+1 of qh[l]; 16 elements share
    // a scale. x = d * scale * (q - 32). Here 16 values of l at a time (one scale each).
    private static float dotQ6_K(MemorySegment row, float[] x, int xOffset, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 256; b++) {
            long at = 210L * b;
            float d = fp16(row, at + 208);
            for (int half = 0; half < 2; half++) {
                long ql = at + 64 * half;
                long qh = at + 128 + 32 * half;
                long sc = at + 192 + 8 * half;
                int xh = xOffset + 256 * b + 128 * half;
                for (int l = 0; l < 32; l += 16) {
                    ByteVector lowA = load16(row, ql + l);
                    ByteVector lowB = load16(row, ql + 32 + l);
                    ByteVector high = load16(row, qh + l);
                    ByteVector q1 = lowNibbles(lowA).or(high.and((byte) 3).lanewise(VectorOperators.LSHL, 4));
                    ByteVector q2 = lowNibbles(lowB).or(high.lanewise(VectorOperators.LSHR, 2).and((byte) 3)
                            .lanewise(VectorOperators.LSHL, 4));
                    ByteVector q3 = highNibbles(lowA).or(high.lanewise(VectorOperators.LSHR, 4).and((byte) 3)
                            .lanewise(VectorOperators.LSHL, 4));
                    ByteVector q4 = highNibbles(lowB).or(high.lanewise(VectorOperators.LSHR, 6)
                            .lanewise(VectorOperators.LSHL, 4));
                    int is = l / 16;
                    acc = addScaled(acc, fmaBytes(q1.sub((byte) 32), x, xh + l, FloatVector.zero(F)), d * i8(row, sc + is));
                    acc = addScaled(acc, fmaBytes(q2.sub((byte) 32), x, xh + 32 + l, FloatVector.zero(F)), d * i8(row, sc + is + 2));
                    acc = addScaled(acc, fmaBytes(q3.sub((byte) 32), x, xh + 64 + l, FloatVector.zero(F)), d * i8(row, sc + is + 4));
                    acc = addScaled(acc, fmaBytes(q4.sub((byte) 32), x, xh + 96 + l, FloatVector.zero(F)), d * i8(row, sc + is + 6));
                }
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    // ---- bitsandbytes NF4 / FP4 (16 lanes only): 64-element blocks, element 2j in the high nibble
    // of byte j. The codes index a 16-float table held in one vector; the interleaved activations
    // are gathered as evens and odds.

    private static final FloatVector NF4_TABLE = L == 16 ? FloatVector.fromArray(F, Bnb4bit.QuantType.NF4.table(), 0) : null;
    private static final FloatVector FP4_TABLE = L == 16 ? FloatVector.fromArray(F, Bnb4bit.QuantType.FP4.table(), 0) : null;
    private static final int[] EVENS = new int[16];
    private static final int[] ODDS = new int[16];

    static {
        for (int i = 0; i < 16; i++) {
            EVENS[i] = 2 * i;
            ODDS[i] = 2 * i + 1;
        }
    }

    private static float dotBitsAndBytes4(MemorySegment row, float[] x, int xOffset, int n, FloatVector table) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 64; b++) {
            long at = 34L * b;
            FloatVector sum = FloatVector.zero(F);
            for (int half = 0; half < 2; half++) {
                ByteVector codes = load16(row, at + 2 + 16 * half);
                int xb = xOffset + 64 * b + 32 * half;
                FloatVector even = lookup(table, highNibbles(codes));
                FloatVector odd = lookup(table, lowNibbles(codes));
                sum = even.fma(FloatVector.fromArray(F, x, xb, EVENS, 0), sum);
                sum = odd.fma(FloatVector.fromArray(F, x, xb, ODDS, 0), sum);
            }
            acc = addScaled(acc, sum, fp16(row, at));
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    private static FloatVector lookup(FloatVector table, ByteVector codes) {
        VectorShuffle<Float> indexes = ((IntVector) codes.convertShape(VectorOperators.B2I, I, 0)).toShuffle().cast(F);
        return table.rearrange(indexes);
    }
}
