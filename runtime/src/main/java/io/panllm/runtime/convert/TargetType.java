package io.panllm.runtime.convert;

import io.panllm.tensor.GgmlType;
import java.util.Locale;

/**
 * The {@code --type} of a conversion: a base tensor type plus llama.cpp's file type id, and for the
 * mixed types (Q4_K_M) the rule of which tensors get more bits.
 */
public enum TargetType {
    F32(GgmlType.F32, 0),
    F16(GgmlType.F16, 1),
    BF16(GgmlType.BF16, 32),
    Q8_0(GgmlType.Q8_0, 7),
    Q4_0(GgmlType.Q4_0, 2),
    Q4_1(GgmlType.Q4_1, 3),
    Q5_0(GgmlType.Q5_0, 8),
    Q5_1(GgmlType.Q5_1, 9),
    Q4_K_S(GgmlType.Q4_K, 14),
    Q4_K_M(GgmlType.Q4_K, 15),
    Q5_K_M(GgmlType.Q5_K, 17),
    Q6_K(GgmlType.Q6_K, 18),
    IQ4_NL(GgmlType.IQ4_NL, 25),
    /** panllm extension type: refused by llama.cpp (only with --allow-extension-types). */
    NF4(GgmlType.NF4, -1),
    /** panllm extension type: refused by llama.cpp (only with --allow-extension-types). */
    FP4(GgmlType.FP4, -1),
    /**
     * panllm extension: LLM.int8 weights as bitsandbytes stores them (I8 codes + the F32 row absmax
     * in a companion tensor {@code X.scb}); refused by llama.cpp (only with --allow-extension-types).
     */
    INT8(GgmlType.I8, -1);

    public final GgmlType base;
    /** llama.cpp's {@code general.file_type} (enum llama_ftype), -1 for panllm extensions. */
    public final int fileType;

    TargetType(GgmlType base, int fileType) {
        this.base = base;
        this.fileType = fileType;
    }

    /** Parses "q4_k_m", "Q4_0", "f16" ...; "q4_k" means Q4_K_M as in llama.cpp's quantize tool. */
    public static TargetType parse(String s) {
        String n = s.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        if (n.equals("Q4_K")) {
            return Q4_K_M;
        }
        if (n.equals("Q5_K")) {
            return Q5_K_M;
        }
        if (n.equals("LLM.INT8")) {
            return INT8;
        }
        for (TargetType t : values()) {
            if (t.name().equals(n)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown type '" + s + "' (known: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, "
                + "q4_k_s, q4_k_m, q5_k_m, q6_k, iq4_nl, nf4, fp4, int8)");
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** A panllm extension: a file llama.cpp cannot read. */
    public boolean isExtension() {
        return fileType < 0;
    }

    /** Bits per weight of the layers' matrices (INT8: the codes plus one float32 per row, not counted here). */
    public double bitsPerWeight() {
        return base.bitsPerWeight();
    }
}
