package io.panllm.tensor;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * bitsandbytes 4-bit tensors (NF4 and FP4) in their native safetensors layout, as transformers saves
 * a {@code Linear4bit} weight:
 *
 * <ul>
 *   <li>{@code weight}: uint8, the codes packed two per byte, element 2k in the high nibble of byte k
 *       and 2k + 1 in the low nibble; (n + 1) / 2 bytes for n elements.
 *   <li>{@code weight.absmax}: one absmax per block of {@code blocksize} elements (64 by default, the
 *       last block possibly partial): float32, or with double quantization ("nested") one uint8 code
 *       per block in bitsandbytes' dynamic 8-bit map, with {@code weight.nested_absmax} (float32, one
 *       per 256 codes), {@code weight.nested_quant_map} (256 float32) and the {@code nested_offset}
 *       of the quant-state JSON: absmax[i] = nested_quant_map[code[i]] * nested_absmax[i / 256] + offset.
 *   <li>x = absmax[block] * table[code], with the {@link QuantType} table.
 * </ul>
 *
 * <p>Quantizing follows bitsandbytes' CUDA kernel (kQuantizeBlockwise): absmax = max |x| per block,
 * each x multiplied by the float32 1 / absmax, and the code chosen by the kernel's comparison tree
 * (the nearest table entry; ties as the tree breaks them). Double quantization follows
 * quantize_4bit(compress_statistics=True): the mean of the absmax values is subtracted and the rest
 * quantized in blocks of 256 with the dynamic map. One difference: the offset is the mean computed in
 * double, where torch's float32 mean on the GPU may differ in the last bit; the offset is stored with
 * the tensor, so the file stays self-consistent.
 */
public final class Bnb4bit {
    private Bnb4bit() {
    }

    /** Block size of bitsandbytes' 4-bit quantization unless configured otherwise. */
    public static final int DEFAULT_BLOCK_SIZE = 64;
    /** Block size of the second quantization of the absmax values. */
    public static final int NESTED_BLOCK_SIZE = 256;

    /** The two 4-bit codes: bitsandbytes' get_4bit_type tables and its CUDA quantization trees. */
    public enum QuantType {
        /** NormalFloat4: quantiles of a normal distribution, normalized to [-1, 1]. */
        NF4(new float[] {
            -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
            -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
            0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
            0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f}),
        /**
         * FP4 (e2m1, bias 3, no infinities), sign in bit 3, magnitudes {0, 0.0625, 8, 12, 4, 6, 2, 3}
         * divided by 12 so that the largest is 1.
         */
        FP4(new float[] {
            0.0f, 0.005208333333f, 0.66666667f, 1.0f, 0.33333333f, 0.5f, 0.16666667f, 0.25f,
            -0.0f, -0.005208333333f, -0.66666667f, -1.0f, -0.33333333f, -0.5f, -0.16666667f, -0.25f});

        private final float[] table;

        QuantType(float[] table) {
            this.table = table;
        }

        /** The normalized value of a 4-bit code. */
        public float value(int code) {
            return table[code];
        }

        /** A copy of the 16 normalized values, indexed by code (bitsandbytes' {@code quant_map}). */
        public float[] table() {
            return table.clone();
        }

        /**
         * The code bitsandbytes gives to {@code normalized} (x / absmax): dQuantizeNF4 / dQuantizeFP4 of
         * its CUDA kernels. Their comparison trees are equivalent to counting the thresholds below.
         * NaN gets code 0, as the trees give it.
         */
        public int code(float normalized) {
            return this == NF4 ? nf4Code(normalized) : fp4Code(normalized);
        }

        /** "nf4" or "fp4", as bitsandbytes names the type in its quant state. */
        public static QuantType fromName(String name) {
            for (QuantType t : values()) {
                if (t.name().equalsIgnoreCase(name)) {
                    return t;
                }
            }
            throw new IllegalArgumentException("unknown bitsandbytes 4-bit quant_type '" + name + "' (expected nf4 or fp4)");
        }
    }

    /** The split points of dQuantizeNF4, ascending: code = how many of them x exceeds. */
    private static final float[] NF4_THRESHOLDS = {
        -0.8480964004993439f, -0.6106329262256622f, -0.4599952697753906f, -0.33967943489551544f,
        -0.23460740596055984f, -0.13791173323988914f, -0.045525018125772476f, 0.03979014977812767f,
        0.1202552504837513f, 0.2035212516784668f, 0.2920137718319893f, 0.3893125355243683f,
        0.5016634166240692f, 0.6427869200706482f, 0.8614784181118011f};

    /** The split points of dQuantizeFP4 on |x|, ascending. */
    private static final float[] FP4_THRESHOLDS = {
        0.00260417f, 0.0859375f, 0.20833333f, 0.29166667f, 0.4166667f, 0.583333f, 0.8333333f};

    /** FP4 magnitude codes in ascending order of value (0, 0.0625, 2, 3, 4, 6, 8, 12). */
    private static final int[] FP4_CODES_ASCENDING = {0b000, 0b001, 0b110, 0b111, 0b100, 0b101, 0b010, 0b011};

    private static int nf4Code(float x) {
        int code = 0;
        for (float threshold : NF4_THRESHOLDS) {
            if (x > threshold) {
                code++;
            }
        }
        return code;
    }

    private static int fp4Code(float x) {
        int sign = x < 0 ? 0b1000 : 0;
        float magnitude = Math.abs(x);
        int rank = 0;
        for (float threshold : FP4_THRESHOLDS) {
            if (magnitude > threshold) {
                rank++;
            }
        }
        return FP4_CODES_ASCENDING[rank] + sign;
    }

    // ---------------------------------------------------------------- decoding

    /**
     * Decodes n elements: reads (n + 1) / 2 bytes of {@code packedCodes} and ceil(n / blockSize)
     * entries of {@code absmax}, writes dst[dstOffset, dstOffset + n).
     */
    public static void dequantize(QuantType type, MemorySegment packedCodes, float[] absmax, int blockSize,
            float[] dst, int dstOffset, int n) {
        Objects.requireNonNull(type, "type");
        checkBlockSize(blockSize);
        checkCount(n);
        requireBytes(packedCodes, packedBytes(n), "packed codes");
        requireLength(absmax, blockCount(n, blockSize), "absmax");
        Objects.checkFromIndexSize(dstOffset, n, dst.length);
        for (int i = 0; i < n; i += 2) {
            int packed = packedCodes.get(JAVA_BYTE, i / 2) & 0xFF;
            float scale = absmax[i / blockSize]; // a pair never straddles blocks: blockSize is even
            dst[dstOffset + i] = type.value(packed >>> 4) * scale;
            if (i + 1 < n) {
                dst[dstOffset + i + 1] = type.value(packed & 0x0F) * scale;
            }
        }
    }

    /** Convenience form of {@link #dequantize(QuantType, MemorySegment, float[], int, float[], int, int)}. */
    public static float[] dequantize(QuantType type, MemorySegment packedCodes, float[] absmax, int blockSize, int n) {
        checkCount(n);
        requireBytes(packedCodes, packedBytes(n), "packed codes"); // before allocating for n
        float[] out = new float[n];
        dequantize(type, packedCodes, absmax, blockSize, out, 0, n);
        return out;
    }

    /**
     * The absmax values of a double-quantized tensor, as bitsandbytes' dequantize_4bit rebuilds them:
     * nestedQuantMap[code] * nestedAbsmax[i / nestedBlockSize] in float32, then + offset.
     *
     * @param absmaxCodes the uint8 {@code weight.absmax} tensor, at least {@code blocks} bytes
     * @param nestedAbsmax {@code weight.nested_absmax}, ceil(blocks / nestedBlockSize) values
     * @param nestedQuantMap {@code weight.nested_quant_map}, 256 values
     * @param nestedBlockSize {@code nested_blocksize} from the quant state (256 as bitsandbytes writes it)
     * @param offset {@code nested_offset} from the quant state
     * @param blocks the number of 4-bit blocks, ceil(n / blocksize)
     */
    public static float[] dequantizeAbsmax(MemorySegment absmaxCodes, float[] nestedAbsmax, float[] nestedQuantMap,
            int nestedBlockSize, float offset, int blocks) {
        if (nestedBlockSize <= 0) {
            throw new IllegalArgumentException("nested block size must be positive, got " + nestedBlockSize);
        }
        checkCount(blocks);
        requireBytes(absmaxCodes, blocks, "absmax codes");
        requireLength(nestedAbsmax, blockCount(blocks, nestedBlockSize), "nested absmax");
        if (nestedQuantMap.length != 256) {
            throw new IllegalArgumentException("nested quant map must hold 256 values, got " + nestedQuantMap.length);
        }
        float[] absmax = new float[blocks];
        for (int i = 0; i < blocks; i++) {
            int code = absmaxCodes.get(JAVA_BYTE, i) & 0xFF;
            absmax[i] = nestedQuantMap[code] * nestedAbsmax[i / nestedBlockSize] + offset;
        }
        return absmax;
    }

    // ---------------------------------------------------------------- encoding

    /** A quantized tensor in the native layout: (n + 1) / 2 packed code bytes, one float32 absmax per block. */
    public record Quantized(QuantType type, int blockSize, int n, byte[] packedCodes, float[] absmax) {
        /** Decodes the whole tensor. */
        public float[] dequantize() {
            return Bnb4bit.dequantize(type, MemorySegment.ofArray(packedCodes), absmax, blockSize, n);
        }
    }

    /** Quantizes src[srcOffset, srcOffset + n) in blocks of {@code blockSize}, as bitsandbytes' quantize_4bit. */
    public static Quantized quantize(QuantType type, float[] src, int srcOffset, int n, int blockSize) {
        checkBlockSize(blockSize);
        checkCount(n);
        Objects.checkFromIndexSize(srcOffset, n, src.length); // before allocating for n
        byte[] packed = new byte[Math.toIntExact(packedBytes(n))];
        float[] absmax = new float[blockCount(n, blockSize)];
        quantize(type, src, srcOffset, n, blockSize, MemorySegment.ofArray(packed), absmax);
        return new Quantized(type, blockSize, n, packed, absmax);
    }

    /**
     * Quantizes into caller-provided storage: (n + 1) / 2 bytes at the start of {@code packedCodes} and
     * ceil(n / blockSize) values at the start of {@code absmax}. An odd n pads the last byte's low
     * nibble with the code of 0, as the CUDA kernel does.
     */
    public static void quantize(QuantType type, float[] src, int srcOffset, int n, int blockSize,
            MemorySegment packedCodes, float[] absmax) {
        Objects.requireNonNull(type, "type");
        checkBlockSize(blockSize);
        checkCount(n);
        Objects.checkFromIndexSize(srcOffset, n, src.length);
        requireBytes(packedCodes, packedBytes(n), "packed codes");
        requireLength(absmax, blockCount(n, blockSize), "absmax");
        for (int start = 0; start < n; start += blockSize) {
            int count = Math.min(blockSize, n - start);
            float blockAbsmax = absMax(src, srcOffset + start, count);
            absmax[start / blockSize] = blockAbsmax;
            float inverse = 1.0f / blockAbsmax; // a zero block gives 0 * inf = NaN, code 0, as in CUDA
            for (int i = 0; i < count; i += 2) {
                int high = type.code(src[srcOffset + start + i] * inverse);
                float second = i + 1 < count ? src[srcOffset + start + i + 1] : 0f;
                int low = type.code(second * inverse);
                packedCodes.set(JAVA_BYTE, (start + i) / 2, (byte) ((high << 4) | low));
            }
        }
    }

    /** Double-quantized absmax values: what quantize_4bit(compress_statistics=True) stores. */
    public record NestedAbsmax(byte[] codes, float[] nestedAbsmax, float[] nestedQuantMap, float offset,
            int nestedBlockSize) {
        /** The absmax values these stand for. */
        public float[] dequantize() {
            return dequantizeAbsmax(MemorySegment.ofArray(codes), nestedAbsmax, nestedQuantMap, nestedBlockSize,
                    offset, codes.length);
        }
    }

    /**
     * Double quantization of the absmax values of a 4-bit tensor: subtract their mean, then quantize
     * blockwise (256) to bitsandbytes' dynamic 8-bit code, as quantize_blockwise does.
     */
    public static NestedAbsmax quantizeAbsmax(float[] absmax) {
        double sum = 0;
        for (float a : absmax) {
            sum += a;
        }
        float offset = absmax.length == 0 ? 0f : (float) (sum / absmax.length);
        float[] centered = new float[absmax.length];
        for (int i = 0; i < absmax.length; i++) {
            centered[i] = absmax[i] - offset;
        }
        byte[] codes = new byte[absmax.length];
        float[] nestedAbsmax = new float[blockCount(absmax.length, NESTED_BLOCK_SIZE)];
        for (int start = 0; start < centered.length; start += NESTED_BLOCK_SIZE) {
            int count = Math.min(NESTED_BLOCK_SIZE, centered.length - start);
            float blockAbsmax = absMax(centered, start, count);
            nestedAbsmax[start / NESTED_BLOCK_SIZE] = blockAbsmax;
            float inverse = 1.0f / blockAbsmax;
            for (int i = start; i < start + count; i++) {
                codes[i] = (byte) BnbDynamicMap.quantize(centered[i] * inverse);
            }
        }
        return new NestedAbsmax(codes, nestedAbsmax, BnbDynamicMap.map(), offset, NESTED_BLOCK_SIZE);
    }

    /** bitsandbytes' signed dynamic 8-bit map (create_dynamic_map(signed=True)), 256 ascending values. */
    public static float[] dynamicMap() {
        return BnbDynamicMap.map();
    }

    // ---------------------------------------------------------------- GGUF extension blocks

    /**
     * Re-packs a native 4-bit tensor with block size 64 into panllm's GGUF extension blocks
     * ({@link GgmlType#NF4} / {@link GgmlType#FP4}: fp16 absmax, then the same 32 code bytes) without
     * choosing any code again. Only the absmax changes: it is rounded to fp16.
     *
     * @param n element count, a whole number of 64-element blocks
     * @param dst at least {@code GgmlType.NF4.byteSize(n)} bytes
     */
    public static void toGgufBlocks(MemorySegment packedCodes, float[] absmax, int n, MemorySegment dst) {
        GgmlType blockType = GgmlType.NF4;
        if (n < 0 || n % blockType.blockSize != 0) {
            throw new IllegalArgumentException(
                    n + " elements is not a whole number of " + blockType.blockSize + "-element GGUF 4-bit blocks");
        }
        int blocks = n / blockType.blockSize;
        requireBytes(packedCodes, packedBytes(n), "packed codes");
        requireLength(absmax, blocks, "absmax");
        requireBytes(dst, blockType.byteSize(n), "destination");
        int codeBytes = blockType.blockSize / 2;
        for (int b = 0; b < blocks; b++) {
            long block = (long) b * blockType.bytesPerBlock;
            LittleEndian.setFp16(dst, block, absmax[b]);
            MemorySegment.copy(packedCodes, (long) b * codeBytes, dst, block + 2, codeBytes);
        }
    }

    // ---------------------------------------------------------------- sizes and checks

    /** Bytes of packed codes for n elements. */
    public static long packedBytes(long n) {
        return (n + 1) / 2;
    }

    /** Number of absmax blocks for n elements: ceil(n / blockSize). */
    public static int blockCount(long n, int blockSize) {
        return Math.toIntExact((n + blockSize - 1) / blockSize);
    }

    /** Largest magnitude of a block, NaNs skipped (CUDA's fmaxf ignores them). */
    static float absMax(float[] x, int offset, int count) {
        float max = 0;
        for (int i = 0; i < count; i++) {
            float a = Math.abs(x[offset + i]);
            if (a > max) {
                max = a;
            }
        }
        return max;
    }

    private static void checkBlockSize(int blockSize) {
        if (blockSize < 32 || blockSize > 4096 || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("bitsandbytes block size must be a power of two from 32 to 4096, got "
                    + blockSize);
        }
    }

    private static void checkCount(long n) {
        if (n < 0) {
            throw new IllegalArgumentException("negative element count " + n);
        }
    }

    private static void requireBytes(MemorySegment segment, long needed, String what) {
        if (segment.byteSize() < needed) {
            throw new IllegalArgumentException(what + ": need " + needed + " bytes, the segment holds "
                    + segment.byteSize());
        }
    }

    private static void requireLength(float[] array, int needed, String what) {
        if (array.length < needed) {
            throw new IllegalArgumentException(what + ": need " + needed + " values, the array holds " + array.length);
        }
    }
}
