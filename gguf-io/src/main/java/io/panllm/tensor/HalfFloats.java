package io.panllm.tensor;

/**
 * Conversions between float32 and the two 16-bit float formats, rounding exactly as ggml does so
 * that a tensor written here is byte-identical to one written by llama.cpp.
 */
public final class HalfFloats {
    private HalfFloats() {
    }

    /**
     * float32 to IEEE half, round to nearest even. This is what ggml's GGML_FP32_TO_FP16 does on x86
     * with F16C ({@code _cvtss_sh(x, 0)}) and in its portable fallback; overflow gives infinity.
     */
    public static short toFp16(float value) {
        return Float.floatToFloat16(value);
    }

    public static float fromFp16(short bits) {
        return Float.float16ToFloat(bits);
    }

    /**
     * float32 to bfloat16 as ggml_compute_fp32_to_bf16: round to nearest even on the upper 16 bits,
     * and a NaN stays a NaN (its top bits kept, forced quiet) instead of rounding into infinity.
     */
    public static short toBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 64);
        }
        return (short) ((bits + (0x7fff + ((bits >>> 16) & 1))) >>> 16);
    }

    /** bfloat16 to float32 (exact: a bfloat16 is the top half of a float32). */
    public static float fromBf16(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }
}
