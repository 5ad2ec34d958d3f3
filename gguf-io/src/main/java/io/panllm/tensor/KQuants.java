package io.panllm.tensor;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.MemorySegment;

/**
 * The scale searches and the packed 6-bit scales shared by the k-quants, ported from llama.cpp's
 * ggml-quants.c. Every expression keeps the C evaluation order and float precision: the searches
 * compare sums of products, and one rounding more or less can pick another scale.
 *
 * <p>Java never fuses a multiply and an add, so this matches ggml compiled without FMA contraction.
 * That is how x86-64 llama.cpp builds compile ggml-quants.c (it is part of ggml-base, which gets no
 * -march flags). A build whose compiler fuses {@code a * b + c} (GCC or Clang targeting ARM64, or
 * any build with -march=native in the global flags) picks a different scale or code in some blocks.
 */
final class KQuants {
    private KQuants() {
    }

    /** Elements per k-quant super-block (ggml's QK_K). */
    static final int QK_K = 256;

    /**
     * make_qkx2_quants: fits x ≈ scale * L - minOut over n elements with 0 <= L <= nmax, trying
     * nstep + 1 scales around nmax / (max - min) and keeping the one with the least weighted error.
     * Writes the codes to L[lOffset...], -min to mins[minIndex], and returns the scale.
     */
    static float makeQkx2Quants(int n, int nmax, float[] x, int xOffset, float[] weights, int[] L, int lOffset,
            float[] mins, int minIndex, int[] lAux, float rmin, float rdelta, int nstep, boolean useMad) {
        float min = x[xOffset];
        float max = x[xOffset];
        float sumW = weights[0];
        float sumX = sumW * x[xOffset];
        for (int i = 1; i < n; i++) {
            float xi = x[xOffset + i];
            if (xi < min) {
                min = xi;
            }
            if (xi > max) {
                max = xi;
            }
            float w = weights[i];
            sumW += w;
            sumX += w * xi;
        }
        if (min > 0) {
            min = 0;
        }
        if (max == min) {
            for (int i = 0; i < n; i++) {
                L[lOffset + i] = 0;
            }
            mins[minIndex] = -min;
            return 0.f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++) {
            int l = QuantMath.nearestInt(iscale * (x[xOffset + i] - min));
            L[lOffset + i] = Math.max(0, Math.min(nmax, l));
            float diff = scale * L[lOffset + i] + min - x[xOffset + i];
            diff = useMad ? Math.abs(diff) : diff * diff;
            bestError += weights[i] * diff;
        }
        if (nstep < 1) {
            mins[minIndex] = -min;
            return scale;
        }
        for (int is = 0; is <= nstep; is++) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0;
            float sumL2 = 0;
            float sumXL = 0;
            for (int i = 0; i < n; i++) {
                int l = QuantMath.nearestInt(iscale * (x[xOffset + i] - min));
                l = Math.max(0, Math.min(nmax, l));
                lAux[i] = l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * x[xOffset + i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0) {
                float thisScale = (sumW * sumXL - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float curError = 0;
                for (int i = 0; i < n; i++) {
                    float diff = thisScale * lAux[i] + thisMin - x[xOffset + i];
                    diff = useMad ? Math.abs(diff) : diff * diff;
                    curError += weights[i] * diff;
                }
                if (curError < bestError) {
                    System.arraycopy(lAux, 0, L, lOffset, n);
                    bestError = curError;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        mins[minIndex] = -min;
        return scale;
    }

    /**
     * make_qx_quants with rmse_type 1: symmetric codes L in [0, 2 nmax) for x ≈ scale * (L - nmax),
     * weighting element i by qw[qwOffset + i], or by x² when qw is null (as quantize_row_q6_K_ref
     * calls it). Returns the scale, which is negative when the largest magnitude is positive.
     */
    static float makeQxQuants(int n, int nmax, float[] x, int xOffset, int[] L, int lOffset, float[] qw, int qwOffset) {
        float max = QuantMath.signedAbsMax(x, xOffset, n);
        if (Math.abs(max) < QuantMath.GROUP_MAX_EPS) {
            for (int i = 0; i < n; i++) {
                L[lOffset + i] = 0;
            }
            return 0.f;
        }
        float iscale = -nmax / max;
        float sumLX = 0;
        float sumL2 = 0;
        for (int i = 0; i < n; i++) {
            float xi = x[xOffset + i];
            int l = clampSymmetric(QuantMath.nearestInt(iscale * xi), nmax);
            L[lOffset + i] = l + nmax;
            float w = qw != null ? qw[qwOffset + i] : xi * xi;
            sumLX += w * xi * l;
            sumL2 += w * l * l;
        }
        float scale = sumL2 != 0 ? sumLX / sumL2 : 0.0f;
        float best = scale * sumLX;
        for (int is = -9; is <= 9; is++) {
            if (is == 0) {
                continue;
            }
            iscale = -(nmax + 0.1f * is) / max;
            sumLX = 0;
            sumL2 = 0;
            for (int i = 0; i < n; i++) {
                float xi = x[xOffset + i];
                int l = clampSymmetric(QuantMath.nearestInt(iscale * xi), nmax);
                float w = qw != null ? qw[qwOffset + i] : xi * xi;
                sumLX += w * xi * l;
                sumL2 += w * l * l;
            }
            if (sumL2 > 0 && sumLX * sumLX > best * sumL2) {
                for (int i = 0; i < n; i++) {
                    L[lOffset + i] = nmax + clampSymmetric(QuantMath.nearestInt(iscale * x[xOffset + i]), nmax);
                }
                scale = sumLX / sumL2;
                best = scale * sumLX;
            }
        }
        return scale;
    }

    private static int clampSymmetric(int l, int nmax) {
        return Math.max(-nmax, Math.min(nmax - 1, l));
    }

    // The 12 scale bytes of Q4_K and Q5_K hold 8 six-bit scales and 8 six-bit mins: for j < 4,
    // scale j and min j are the low 6 bits of bytes j and j + 4; for j >= 4, their low 4 bits are
    // the nibbles of byte j + 4 and their top 2 bits the top bits of bytes j - 4 and j.

    /** Scale j (0..7) of the 12 packed scale bytes at {@code offset} (ggml's get_scale_min_k4). */
    static int packedScale(MemorySegment src, long offset, int j) {
        if (j < 4) {
            return byteAt(src, offset + j) & 63;
        }
        return (byteAt(src, offset + j + 4) & 0xF) | ((byteAt(src, offset + j - 4) >>> 6) << 4);
    }

    /** Min j (0..7) of the 12 packed scale bytes at {@code offset}. */
    static int packedMin(MemorySegment src, long offset, int j) {
        if (j < 4) {
            return byteAt(src, offset + j + 4) & 63;
        }
        return (byteAt(src, offset + j + 4) >>> 4) | ((byteAt(src, offset + j) >>> 6) << 4);
    }

    /** Packs 8 scales and 8 mins (each 0..63) into 12 bytes, the inverse of packedScale / packedMin. */
    static void packScalesAndMins(int[] scales, int[] mins, byte[] packed) {
        for (int j = 0; j < 8; j++) {
            int ls = scales[j];
            int lm = mins[j];
            if (j < 4) {
                packed[j] = (byte) ls;
                packed[j + 4] = (byte) lm;
            } else {
                packed[j + 4] = (byte) ((ls & 0xF) | ((lm & 0xF) << 4));
                packed[j - 4] |= (byte) ((ls >> 4) << 6);
                packed[j] |= (byte) ((lm >> 4) << 6);
            }
        }
    }

    private static int byteAt(MemorySegment src, long offset) {
        return src.get(JAVA_BYTE, offset) & 0xFF;
    }
}
