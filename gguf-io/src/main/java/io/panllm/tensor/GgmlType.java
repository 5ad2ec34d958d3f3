package io.panllm.tensor;

/**
 * The tensor type registry: the one place that knows, per type, its GGUF id, how many elements a
 * block holds and how many bytes a block takes. Its codec (quantize / dequantize) comes from
 * {@link #codec()}.
 *
 * <p>Block layouts, as llama.cpp's ggml-common.h defines them (all little-endian; "d" is an fp16
 * scale unless said otherwise):
 *
 * <pre>
 * type     id  block bytes  layout
 * F32       0      1     4  float
 * F16       1      1     2  IEEE half
 * Q4_0      2     32    18  d; qs[16]: element j in low nibble of qs[j], j+16 in high nibble; x = d * (q - 8)
 * Q4_1      3     32    20  d, m; qs[16] as Q4_0; x = d * q + m
 * Q5_0      6     32    22  d; qh[4] (bit j = 5th bit of element j); qs[16] as Q4_0; x = d * (q - 16)
 * Q5_1      7     32    24  d, m; qh[4]; qs[16]; x = d * q + m
 * Q8_0      8     32    34  d; qs[32] int8; x = d * q
 * Q8_1      9     32    36  d, s (= d * sum q); qs[32] int8
 * Q2_K     10    256    84  scales[16], qs[64], d, dmin
 * Q3_K     11    256   110  hmask[32], qs[64], scales[12], d
 * Q4_K     12    256   144  d, dmin; scales[12] (8 x 6-bit scale + 8 x 6-bit min, packed); qs[128]
 *                           8 sub-blocks of 32: x = d * sc * q - dmin * m
 * Q5_K     13    256   176  d, dmin; scales[12]; qh[32]; qs[128]
 * Q6_K     14    256   210  ql[128] (low 4 bits), qh[64] (high 2 bits), scales[16] int8, d
 *                           16 sub-blocks of 16: x = d * scale * (q - 32)
 * Q8_K     15    256   292  d (float32); qs[256] int8; bsums[16] int16
 * IQ4_NL   20     32    18  d; qs[16] as Q4_0 but q indexes the non-linear table kvalues_iq4nl
 * I8       24      1     1  int8; panllm's INT8 (LLM.int8) weights pair it with a float32 tensor
 *                           X.scb of row absmax (bitsandbytes' SCB): w = q * SCB[row] / 127
 * I16      25      1     2
 * I32      26      1     4
 * I64      27      1     8
 * F64      28      1     8
 * BF16     30      1     2  bfloat16 (top half of a float32)
 * </pre>
 *
 * <p>Project extension types (not in GGUF; a file holding them says so in its metadata key
 * {@code panllm.extension_types} and llama.cpp refuses the unknown id): NF4 and FP4 in the
 * bitsandbytes layout re-blocked for GGUF, see {@link #NF4} and {@link #FP4}.
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),
    Q4_1(3, 32, 20),
    Q5_0(6, 32, 22),
    Q5_1(7, 32, 24),
    Q8_0(8, 32, 34),
    Q8_1(9, 32, 36),
    Q2_K(10, 256, 84),
    Q3_K(11, 256, 110),
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    Q6_K(14, 256, 210),
    Q8_K(15, 256, 292),
    IQ2_XXS(16, 256, 66),
    IQ2_XS(17, 256, 74),
    IQ3_XXS(18, 256, 98),
    IQ1_S(19, 256, 50),
    IQ4_NL(20, 32, 18),
    IQ3_S(21, 256, 110),
    IQ2_S(22, 256, 82),
    IQ4_XS(23, 256, 136),
    I8(24, 1, 1),
    I16(25, 1, 2),
    I32(26, 1, 4),
    I64(27, 1, 8),
    F64(28, 1, 8),
    IQ1_M(29, 256, 56),
    BF16(30, 1, 2),
    TQ1_0(34, 256, 54),
    TQ2_0(35, 256, 66),
    MXFP4(39, 32, 17),
    /**
     * panllm extension: bitsandbytes NF4, blocks of 64: absmax as fp16 (2 bytes) then 32 bytes of
     * 4-bit codes, first element of each pair in the high nibble; x = absmax * NF4_TABLE[q].
     */
    NF4(1024, 64, 34),
    /** panllm extension: bitsandbytes FP4 (e2m1), same block layout as {@link #NF4}. */
    FP4(1025, 64, 34);

    /** Id written in GGUF tensor infos. */
    public final int id;
    /** Elements per block. */
    public final int blockSize;
    /** Bytes per block. */
    public final int bytesPerBlock;

    GgmlType(int id, int blockSize, int bytesPerBlock) {
        this.id = id;
        this.blockSize = blockSize;
        this.bytesPerBlock = bytesPerBlock;
    }

    private static final GgmlType[] BY_ID = new GgmlType[64];

    static {
        for (GgmlType t : values()) {
            if (t.id < BY_ID.length) {
                BY_ID[t.id] = t;
            }
        }
    }

    /** The type with this GGUF id, or null if the id is not one we know. */
    public static GgmlType fromId(long id) {
        if (id >= 0 && id < BY_ID.length) {
            return BY_ID[(int) id];
        }
        for (GgmlType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }

    /** The type with this (case-insensitive) name such as "q4_0", or null. */
    public static GgmlType fromName(String name) {
        for (GgmlType t : values()) {
            if (t.name().equalsIgnoreCase(name)) {
                return t;
            }
        }
        return null;
    }

    /** True for the project's own types that GGUF readers other than panllm do not know. */
    public boolean isExtension() {
        return id >= 1024;
    }

    public boolean isQuantized() {
        return blockSize > 1;
    }

    /**
     * Bytes taken by {@code elements} elements of this type.
     *
     * @throws ArithmeticException if the count is not a whole number of blocks or overflows
     */
    public long byteSize(long elements) {
        if (elements < 0 || elements % blockSize != 0) {
            throw new ArithmeticException(
                    name() + ": " + elements + " elements is not a whole number of " + blockSize + "-element blocks");
        }
        return Math.multiplyExact(elements / blockSize, (long) bytesPerBlock);
    }

    /** Bits per weight, including the scales stored in each block. */
    public double bitsPerWeight() {
        return 8.0 * bytesPerBlock / blockSize;
    }

    /** The codec for this type; throws {@link UnsupportedTypeException} when none exists. */
    public BlockCodec codec() {
        return Codecs.of(this);
    }
}
