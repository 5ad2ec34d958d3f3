package io.panllm.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Small numeric pieces shared by the quantizers, each a faithful port of its ggml counterpart: the
 * quantizers must round exactly as llama.cpp's do to produce the same bytes.
 */
final class QuantMath {
    private QuantMath() {
    }

    /** ggml's GROUP_MAX_EPS: a group whose largest magnitude is below this is treated as all zero. */
    static final float GROUP_MAX_EPS = 1e-15f;

    /**
     * ggml's nearest_int: adding 1.5 * 2^23 leaves round-to-nearest-even of the value in the low
     * mantissa bits. Valid for |value| <= 4194303; beyond that it returns what ggml returns (garbage
     * that the callers then clamp), which keeps the port byte-exact even there.
     */
    static int nearestInt(float value) {
        return (Float.floatToRawIntBits(value + 12582912f) & 0x007fffff) - 0x00400000;
    }

    /** C's roundf (halfway cases away from zero), as quantize_row_q8_0_ref uses it. */
    static int roundHalfAwayFromZero(float value) {
        // In double, |value| + 0.5 is exact for every float below 2^52, so floor cannot be fooled by
        // the rounding that the same sum in float would suffer (0.49999997f + 0.5f == 1.0f).
        return (int) Math.copySign(Math.floor(Math.abs((double) value) + 0.5), value);
    }

    /**
     * The element of x[offset, offset + n) with the largest magnitude, keeping its sign; the first
     * one wins a tie, as in every ggml loop of the form {@code if (ax > amax) { amax = ax; max = x; }}.
     */
    static float signedAbsMax(float[] x, int offset, int n) {
        float amax = 0;
        float max = 0;
        for (int i = 0; i < n; i++) {
            float v = x[offset + i];
            if (Math.abs(v) > amax) {
                amax = Math.abs(v);
                max = v;
            }
        }
        return max;
    }

    /**
     * Writes 32 4-bit codes as 16 bytes in the ggml order of Q4_0, Q4_1, Q5_x and IQ4_NL: element j in
     * the low nibble of byte j, element j + 16 in its high nibble (only the low 4 bits of each code).
     */
    static void putNibbles32(int[] codes, MemorySegment dst, long offset) {
        for (int j = 0; j < 16; j++) {
            dst.set(ValueLayout.JAVA_BYTE, offset + j, (byte) ((codes[j] & 0x0F) | ((codes[j + 16] & 0x0F) << 4)));
        }
    }

    /** The fifth bits of 32 5-bit codes as Q5_0 / Q5_1 store them: bit j of a little-endian uint32. */
    static int fifthBits32(int[] codes) {
        int qh = 0;
        for (int j = 0; j < 32; j++) {
            qh |= ((codes[j] & 0x10) >>> 4) << j;
        }
        return qh;
    }
}
