package io.panllm.runtime.cpu;

import io.panllm.runtime.FixedOrderMath;
import static io.panllm.runtime.cpu.BlockBytes.bf16;
import static io.panllm.runtime.cpu.BlockBytes.f32;
import static io.panllm.runtime.cpu.BlockBytes.fp16;

import io.panllm.tensor.Bnb4bit;
import io.panllm.tensor.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
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
    static final VectorSpecies<Byte> B32 = ByteVector.SPECIES_256;
    static final int L = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    static RowKernel of(GgmlType type) {
        RowKernel scalar = ScalarKernels.of(type);
        return switch (type) {
            case F32 -> new Kernel(scalar, VectorKernels::dotF32, VectorKernels::decodeF32);
            case F16 -> new Kernel(scalar, VectorKernels::dotF16, VectorKernels::decodeF16);
            case BF16 -> new Kernel(scalar, VectorKernels::dotBf16, VectorKernels::decodeBf16);
            case Q8_0 -> new Kernel(scalar, VectorKernels::dotQ8_0, VectorKernels::decodeQ8_0);
            case I8 -> new Kernel(scalar, VectorKernels::dotI8, VectorKernels::decodeI8);
            case Q4_0 -> new Kernel(scalar, VectorKernels::dotQ4_0, VectorKernels::decodeQ4_0);
            case Q4_1 -> new Kernel(scalar, VectorKernels::dotQ4_1, null);
            case IQ4_NL -> new Kernel(scalar, VectorKernels::dotIq4Nl, null);
            case Q4_K -> new Kernel(scalar, VectorKernels::dotQ4_K, VectorKernels::decodeQ4_K);
            case Q6_K -> new Kernel(scalar, VectorKernels::dotQ6_K, VectorKernels::decodeQ6_K);
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
        float sum = FixedOrderMath.sum(acc);
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
        float sum = FixedOrderMath.sum(acc);
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
        float sum = FixedOrderMath.sum(acc);
        for (; i < n; i++) {
            sum += bf16(row, 2L * i) * x[xOffset + i];
        }
        return sum;
    }

    // ---- 32-element blocks: per block, sum q * x in a vector, then scale once

    /** Plain int8 codes (the row scale of INT8 weights is applied by the caller); any n. */
    private static float dotI8(MemorySegment row, float[] x, int xOffset, int n) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int i = 0;
        for (; i + 32 <= n; i += 32) {
            acc0 = fmaBytes(load16(row, i), x, xOffset + i, acc0);
            acc1 = fmaBytes(load16(row, i + 16), x, xOffset + i + 16, acc1);
        }
        float sum = FixedOrderMath.sum(acc0.add(acc1));
        for (; i < n; i++) {
            sum += row.get(ValueLayout.JAVA_BYTE, i) * x[xOffset + i];
        }
        return sum;
    }

    private static void decodeI8(MemorySegment row, float[] out, int outOffset, int n) {
        int i = 0;
        for (; i + 16 <= n; i += 16) {
            storeBytes(load16(row, i), 1f, out, outOffset + i);
        }
        for (; i < n; i++) {
            out[outOffset + i] = row.get(ValueLayout.JAVA_BYTE, i);
        }
    }

    private static float dotQ8_0(MemorySegment row, float[] x, int xOffset, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            long at = 34L * b;
            int xb = xOffset + 32 * b;
            FloatVector sum = fmaBytes(load16(row, at + 2), x, xb, FloatVector.zero(F));
            sum = fmaBytes(load16(row, at + 18), x, xb + 16, sum);
            acc = addScaled(acc, sum, fp16(row, at));
        }
        return FixedOrderMath.sum(acc);
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
        return FixedOrderMath.sum(acc0.add(acc1));
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
        return FixedOrderMath.sum(acc);
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
        return FixedOrderMath.sum(acc);
    }

    // ---- k-quants: 256-element super-blocks

    // Q4_K. The JIT inlines a kernel into its callers until a node budget runs out, and a vector
    // operation of ours left un-inlined boxes its vectors (30x slower). So each super-block is one
    // method that returns a float, its vector work written out in its body, and the 12 scale
    // bytes are read with two loads and unpacked with shifts.
    private static float dotQ4_K(MemorySegment row, float[] x, int xOffset, int n) {
        float sum = 0f;
        for (int b = 0; b < n / 256; b++) {
            sum += q4kBlockDot(row, 144L * b, x, xOffset + 256 * b);
        }
        return sum;
    }

    /**
     * One super-block: d, dmin; scales[12]; qs[128] in four 64-element chunks, sub-block 2c in the
     * low nibbles of chunk c's 32 bytes and 2c + 1 in the high ones; each sub-block contributes
     * d * scale * (q . x) - dmin * min * sum(x).
     */
    private static float q4kBlockDot(MemorySegment row, long at, float[] x, int xb) {
        float d = fp16(row, at);
        float dmin = fp16(row, at + 2);
        long scales0to7 = row.get(BlockBytes.LONG_LE, at + 4);
        int scales8to11 = row.get(BlockBytes.INT_LE, at + 12);
        FloatVector acc = FloatVector.zero(F);
        for (int chunk = 0; chunk < 4; chunk++) {
            int lowScaleMin = q4kScaleAndMin(scales0to7, scales8to11, 2 * chunk);
            int highScaleMin = q4kScaleAndMin(scales0to7, scales8to11, 2 * chunk + 1);
            FloatVector low = FloatVector.zero(F);
            FloatVector high = low;
            FloatVector xSumLow = low;
            FloatVector xSumHigh = low;
            int xc = xb + 64 * chunk;
            ByteVector q = ByteVector.fromMemorySegment(B32, row, at + 16 + 32 * chunk, LE);
            ByteVector lowCodes = q.and((byte) 0xF);
            ByteVector highCodes = q.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                    .and((byte) 0xF);
            for (int part = 0; part < 32 / L; part++) {
                int i = xc + part * L;
                FloatVector xLow = FloatVector.fromArray(F, x, i);
                FloatVector xHigh = FloatVector.fromArray(F, x, i + 32);
                low = ((FloatVector) lowCodes.convertShape(VectorOperators.B2F, F, part)).fma(xLow, low);
                high = ((FloatVector) highCodes.convertShape(VectorOperators.B2F, F, part)).fma(xHigh, high);
                xSumLow = xSumLow.add(xLow);
                xSumHigh = xSumHigh.add(xHigh);
            }
            acc = low.mul(d * (lowScaleMin & 63)).add(acc);
            acc = xSumLow.mul(-dmin * (lowScaleMin >>> 8)).add(acc);
            acc = high.mul(d * (highScaleMin & 63)).add(acc);
            acc = xSumHigh.mul(-dmin * (highScaleMin >>> 8)).add(acc);
        }
        return FixedOrderMath.sum(acc);
    }

    /**
     * Q4_K rows to floats, as {@link #q4kBlockDot} reads them: x = (d * scale) * q - (dmin * min),
     * rounded as the codec rounds it.
     */
    private static void decodeQ4_K(MemorySegment row, float[] out, int outOffset, int n) {
        for (int b = 0; b < n / 256; b++) {
            long at = 144L * b;
            float d = fp16(row, at);
            float dmin = fp16(row, at + 2);
            long scales0to7 = row.get(BlockBytes.LONG_LE, at + 4);
            int scales8to11 = row.get(BlockBytes.INT_LE, at + 12);
            for (int chunk = 0; chunk < 4; chunk++) {
                int lowScaleMin = q4kScaleAndMin(scales0to7, scales8to11, 2 * chunk);
                int highScaleMin = q4kScaleAndMin(scales0to7, scales8to11, 2 * chunk + 1);
                FloatVector scaleLow = FloatVector.broadcast(F, d * (lowScaleMin & 63));
                FloatVector minLow = FloatVector.broadcast(F, -dmin * (lowScaleMin >>> 8));
                FloatVector scaleHigh = FloatVector.broadcast(F, d * (highScaleMin & 63));
                FloatVector minHigh = FloatVector.broadcast(F, -dmin * (highScaleMin >>> 8));
                ByteVector q = ByteVector.fromMemorySegment(B32, row, at + 16 + 32 * chunk, LE);
                ByteVector lowCodes = q.and((byte) 0xF);
                ByteVector highCodes = q.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                        .and((byte) 0xF);
                int o = outOffset + 256 * b + 64 * chunk;
                for (int part = 0; part < 32 / L; part++) {
                    ((FloatVector) lowCodes.convertShape(VectorOperators.B2F, F, part)).mul(scaleLow).add(minLow)
                            .intoArray(out, o + part * L);
                    ((FloatVector) highCodes.convertShape(VectorOperators.B2F, F, part)).mul(scaleHigh).add(minHigh)
                            .intoArray(out, o + 32 + part * L);
                }
            }
        }
    }

    /**
     * The 6-bit scale (bits 0-5) and min (bits 8-13) of Q4_K sub-block j, ggml's get_scale_min_k4,
     * from scales[0..7] (a little-endian long) and scales[8..11] (an int): sub-blocks 0-3 keep them
     * in the low 6 bits of scales[j] and scales[j + 4]; 4-7 in the nibbles of scales[j + 4] plus
     * the top 2 bits of scales[j - 4] and scales[j].
     */
    private static int q4kScaleAndMin(long scales0to7, int scales8to11, int j) {
        if (j < 4) {
            int scale = (int) (scales0to7 >>> (8 * j)) & 63;
            int min = (int) (scales0to7 >>> (8 * (j + 4))) & 63;
            return scale | min << 8;
        }
        int packed = (scales8to11 >>> (8 * (j - 4))) & 0xFF;
        int scale = (packed & 0xF) | (((int) (scales0to7 >>> (8 * (j - 4))) & 0xC0) >>> 2);
        int min = (packed >>> 4) | (((int) (scales0to7 >>> (8 * j)) & 0xC0) >>> 2);
        return scale | min << 8;
    }

    // Q6_K: ql[128], qh[64], scales[16] int8, d. Two halves of 128 elements; in a half, element
    // l + 32 * k (k = 0..3, l = 0..31) takes its low 4 bits from ql[l + 32 * (k & 1)] (low nibble
    // for k < 2, high for k >= 2) and its top 2 bits from bits 2k..2k+1 of qh[l]; 16 elements share
    // a scale. x = d * scale * (q - 32). Here 16 values of l at a time (one scale each).
    private static float dotQ6_K(MemorySegment row, float[] x, int xOffset, int n) {
        float sum = 0f;
        for (int b = 0; b < n / 256; b++) {
            long at = 210L * b;
            float d = fp16(row, at + 208);
            for (int half = 0; half < 2; half++) {
                long scales = row.get(BlockBytes.LONG_LE, at + 192 + 8 * half); // 8 int8 scales, as one load
                sum += q6kHalfDot(row, at + 64 * half, at + 128 + 32 * half, scales, d, x, xOffset + 256 * b + 128 * half);
            }
        }
        return sum;
    }

    /**
     * One 128-element half of a Q6_K block (ql and qh at the given offsets, its 8 int8 scales
     * packed in a long), reduced to a float; vector work written out in one body (see Q4_K).
     * Shifts run on 32-bit lanes (x86 has no byte shift); the masks keep them within bytes.
     */
    private static float q6kHalfDot(MemorySegment row, long ql, long qh, long scales, float d, float[] x, int xh) {
        FloatVector acc = FloatVector.zero(F);
        for (int l = 0; l < 32; l += 16) {
            IntVector lowA = ByteVector.fromMemorySegment(B16, row, ql + l, LE).reinterpretAsInts();
            IntVector lowB = ByteVector.fromMemorySegment(B16, row, ql + 32 + l, LE).reinterpretAsInts();
            IntVector high = ByteVector.fromMemorySegment(B16, row, qh + l, LE).reinterpretAsInts();
            ByteVector q1 = q6kCodes(lowA, lowB, high, 0);
            ByteVector q2 = q6kCodes(lowA, lowB, high, 1);
            ByteVector q3 = q6kCodes(lowA, lowB, high, 2);
            ByteVector q4 = q6kCodes(lowA, lowB, high, 3);
            int is = l / 16;
            float scale1 = d * (byte) (scales >>> (8 * is));
            float scale2 = d * (byte) (scales >>> (8 * is + 16));
            float scale3 = d * (byte) (scales >>> (8 * is + 32));
            float scale4 = d * (byte) (scales >>> (8 * is + 48));
            for (int part = 0; part < 16 / L; part++) {
                int i = xh + l + part * L;
                acc = ((FloatVector) q1.convertShape(VectorOperators.B2F, F, part)).mul(scale1)
                        .fma(FloatVector.fromArray(F, x, i), acc);
                acc = ((FloatVector) q2.convertShape(VectorOperators.B2F, F, part)).mul(scale2)
                        .fma(FloatVector.fromArray(F, x, i + 32), acc);
                acc = ((FloatVector) q3.convertShape(VectorOperators.B2F, F, part)).mul(scale3)
                        .fma(FloatVector.fromArray(F, x, i + 64), acc);
                acc = ((FloatVector) q4.convertShape(VectorOperators.B2F, F, part)).mul(scale4)
                        .fma(FloatVector.fromArray(F, x, i + 96), acc);
            }
        }
        return FixedOrderMath.sum(acc);
    }

    /**
     * The signed 6-bit codes (q - 32) of group k (elements l + 32k) from 16 bytes each of
     * ql[l ..] (lowA), ql[l + 32 ..] (lowB) and qh[l ..] (high): low 4 bits from the low nibbles
     * (k = 0, 1) or high nibbles (k = 2, 3) of lowA (even k) or lowB (odd k), top 2 bits from bits
     * 2k, 2k + 1 of high. Works on 32-bit lanes (x86 has no byte shift); the masks keep bytes apart.
     */
    private static ByteVector q6kCodes(IntVector lowA, IntVector lowB, IntVector high, int k) {
        IntVector low = (k & 1) == 0 ? lowA : lowB;
        IntVector lowBits = (k < 2 ? low : low.lanewise(VectorOperators.LSHR, 4)).and(0x0F0F0F0F);
        IntVector highBits = high.lanewise(VectorOperators.LSHR, 2 * k).and(0x03030303).lanewise(VectorOperators.LSHL, 4);
        return lowBits.or(highBits).reinterpretAsBytes().sub((byte) 32);
    }

    /** Q6_K rows to floats, as {@link #q6kHalfDot} reads them: x = (d * scale) * (q - 32). */
    private static void decodeQ6_K(MemorySegment row, float[] out, int outOffset, int n) {
        for (int b = 0; b < n / 256; b++) {
            long at = 210L * b;
            float d = fp16(row, at + 208);
            for (int half = 0; half < 2; half++) {
                long ql = at + 64 * half;
                long qh = at + 128 + 32 * half;
                long scales = row.get(BlockBytes.LONG_LE, at + 192 + 8 * half);
                for (int l = 0; l < 32; l += 16) {
                    IntVector lowA = ByteVector.fromMemorySegment(B16, row, ql + l, LE).reinterpretAsInts();
                    IntVector lowB = ByteVector.fromMemorySegment(B16, row, ql + 32 + l, LE).reinterpretAsInts();
                    IntVector high = ByteVector.fromMemorySegment(B16, row, qh + l, LE).reinterpretAsInts();
                    for (int k = 0; k < 4; k++) {
                        ByteVector q = q6kCodes(lowA, lowB, high, k);
                        float scale = d * (byte) (scales >>> (8 * (l / 16 + 2 * k)));
                        for (int part = 0; part < 16 / L; part++) {
                            ((FloatVector) q.convertShape(VectorOperators.B2F, F, part)).mul(scale)
                                    .intoArray(out, outOffset + 256 * b + 128 * half + 32 * k + l + part * L);
                        }
                    }
                }
            }
        }
    }

    // ---- bitsandbytes NF4 / FP4 (16 lanes only): 64-element blocks, element 2j in the high nibble
    // of byte j. The codes are put in element order (a 16-bit lane 0x00HL becomes 0x0L0H, that is
    // bytes H, L), then index a 16-float table held in one vector.

    private static final FloatVector NF4_TABLE = L == 16 ? FloatVector.fromArray(F, Bnb4bit.QuantType.NF4.table(), 0) : null;
    private static final FloatVector FP4_TABLE = L == 16 ? FloatVector.fromArray(F, Bnb4bit.QuantType.FP4.table(), 0) : null;
    private static final VectorSpecies<Short> S16 = ShortVector.SPECIES_256;

    private static float dotBitsAndBytes4(MemorySegment row, float[] x, int xOffset, int n, FloatVector table) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 64; b++) {
            long at = 34L * b;
            FloatVector sum = FloatVector.zero(F);
            for (int half = 0; half < 2; half++) {
                ShortVector pairs = (ShortVector) load16(row, at + 2 + 16 * half)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S16, 0);
                ByteVector codes = pairs.lanewise(VectorOperators.LSHR, 4)
                        .or(pairs.and((short) 0xF).lanewise(VectorOperators.LSHL, 8))
                        .reinterpretAsBytes();
                int xb = xOffset + 64 * b + 32 * half;
                for (int part = 0; part < 2; part++) {
                    FloatVector indexes = (FloatVector) codes.convertShape(VectorOperators.B2F, F, part);
                    sum = indexes.selectFrom(table).fma(FloatVector.fromArray(F, x, xb + 16 * part), sum);
                }
            }
            acc = addScaled(acc, sum, fp16(row, at));
        }
        return FixedOrderMath.sum(acc);
    }
}
