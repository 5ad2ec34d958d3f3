package io.panllm.tensor;

import java.util.List;
import java.util.Map;

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

    /**
     * Ids that GGUF files in the wild carry and this registry does not know, with what they are:
     * types llama.cpp dropped from GGUF, llama.cpp types newer than panllm's list, and the ids of
     * ik_llama.cpp (a fork of llama.cpp with its own quantization types, ggml.h of 2026-08).
     */
    private static final Map<Long, String> FOREIGN_IDS = foreignIds();

    private static Map<Long, String> foreignIds() {
        Map<Long, String> m = new java.util.TreeMap<>();
        String[] removed = {"31 Q4_0_4_4", "32 Q4_0_4_8", "33 Q4_0_8_8", "36 IQ4_NL_4_4", "37 IQ4_NL_4_8", "38 IQ4_NL_8_8"};
        for (String r : removed) {
            String[] idName = r.split(" ");
            m.put(Long.parseLong(idName[0]), "llama.cpp's " + idName[1] + ", removed from GGUF by llama.cpp (it repacks at load time now)");
        }
        m.put(40L, "llama.cpp's NVFP4, newer than the types panllm knows");
        m.put(41L, "llama.cpp's Q1_0 (ik_llama.cpp's Q1_0_G128), newer than the types panllm knows");
        m.put(42L, "llama.cpp's Q2_0, newer than the types panllm knows");
        m.put(36L, m.get(36L) + "; in ik_llama.cpp its I2_S (BitNet)");
        String ik = "97 Q8_0_X4, 98 Q8_1_X4, 99 Q8_2_X4, 133 Q6_0, 134 IQ1_BN, 135 IQ2_BN, 136 Q8_K64, 137 IQ2_K, 138 IQ3_K,"
                + " 139 IQ4_K, 140 IQ5_K, 141 IQ6_K, 142 IQ2_TN, 143 IQ1_TN, 144 IQ4_KS, 145 IQ2_KS, 146 IQ4_KSS, 147 Q8_K16,"
                + " 148 Q8_K32, 149 Q8_KR8, 150 Q8_K128, 151 Q8_KV, 152 IQ5_KS, 153 IQ2_KT, 154 IQ3_KT, 155 IQ4_KT, 156 IQ3_KS,"
                + " 157 IQ2_KL, 158 IQ1_KT, 202 Q4_0_R8, 206 Q5_0_R4, 208 Q8_0_R8, 210 Q2_K_R4, 211 Q3_K_R4, 212 Q4_K_R4,"
                + " 213 Q5_K_R4, 214 Q6_K_R4, 216 IQ2_XXS_R4, 217 IQ2_XS_R4, 218 IQ3_XXS_R4, 219 IQ1_S_R4, 220 IQ4_NL_R4,"
                + " 221 IQ3_S_R4, 222 IQ2_S_R4, 223 IQ4_XS_R8, 229 IQ1_M_R4, 230 BF16_R16, 233 Q6_0_R4, 335 IQ2_BN_R4,"
                + " 337 IQ2_K_R4, 338 IQ3_K_R4, 339 IQ4_K_R4, 340 IQ5_K_R4, 344 IQ4_KS_R4, 352 IQ5_KS_R4, 353 MXFP4_R8,"
                + " 397 Q8_K_R16, 398 Q8_KV_R8, 399 Q8_K_R8";
        for (String e : ik.split(", ")) {
            String[] idName = e.split(" ");
            m.put(Long.parseLong(idName[0]), "ik_llama.cpp's " + idName[1] + ", a type of that fork and not of GGUF as llama.cpp defines it");
        }
        return java.util.Collections.unmodifiableMap(m);
    }

    /**
     * Why a tensor type id cannot be read: which program's type it is when known (an
     * ik_llama.cpp type, one llama.cpp removed or added later), and the types panllm reads.
     */
    public static String unknownIdMessage(long id) {
        String known = FOREIGN_IDS.get(id);
        return "unknown tensor type id " + id + ": " + (known != null ? known : "not a type of GGUF as llama.cpp defines it, nor of a fork panllm knows")
                + "; panllm reads " + supported().stream().map(GgmlType::name).collect(java.util.stream.Collectors.joining(", "))
                + " (convert the model from its original weights with llama.cpp or panllm)";
    }

    /** The types panllm can decode (every type with a codec), in registry order. */
    public static List<GgmlType> supported() {
        return java.util.Arrays.stream(values()).filter(Codecs::has).toList();
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
