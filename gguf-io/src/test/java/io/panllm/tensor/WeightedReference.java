package io.panllm.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A second, deliberately plain transcription of llama.cpp's importance-weighted quantizers
 * (quantize_row_{q4_0,q4_1,q5_0,q5_1,q4_K,q5_K,q6_K}_impl and quantize_iq4_nl with quant_weights),
 * written straight from ggml-quants.c into C-like Java over a ByteBuffer of block structs, with
 * its own fp16 conversion (Float.floatToFloat16). The codecs must produce the same bytes.
 */
final class WeightedReference {
    private WeightedReference() {
    }

    static int nearestInt(float f) {
        float val = f + 12582912.f;
        int i = Float.floatToRawIntBits(val);
        return (i & 0x007fffff) - 0x00400000;
    }

    static short fp16(float f) {
        return Float.floatToFloat16(f);
    }

    static float fromFp16(short h) {
        return Float.float16ToFloat(h);
    }

    static float sqrtf(float f) {
        return (float) Math.sqrt(f);
    }

    static float makeQxQuants(int n, int nmax, float[] x, int xo, byte[] L, float[] qw, int qo) {
        float max = 0, amax = 0;
        for (int i = 0; i < n; ++i) {
            float ax = Math.abs(x[xo + i]);
            if (ax > amax) { amax = ax; max = x[xo + i]; }
        }
        if (amax < 1e-15f) {
            for (int i = 0; i < n; ++i) L[i] = 0;
            return 0.f;
        }
        float iscale = -nmax / max;
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearestInt(iscale * x[xo + i]);
            l = Math.max(-nmax, Math.min(nmax - 1, l));
            L[i] = (byte) (l + nmax);
            float w = qw[qo + i];
            sumlx += w * x[xo + i] * l;
            suml2 += w * l * l;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
        float best = scale * sumlx;
        for (int is = -9; is <= 9; ++is) {
            if (is == 0) continue;
            iscale = -(nmax + 0.1f * is) / max;
            sumlx = suml2 = 0;
            for (int i = 0; i < n; ++i) {
                int l = nearestInt(iscale * x[xo + i]);
                l = Math.max(-nmax, Math.min(nmax - 1, l));
                float w = qw[qo + i];
                sumlx += w * x[xo + i] * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2) {
                for (int i = 0; i < n; ++i) {
                    int l = nearestInt(iscale * x[xo + i]);
                    L[i] = (byte) (nmax + Math.max(-nmax, Math.min(nmax - 1, l)));
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    /** Returns {scale, the_min}; codes in L. */
    static float[] makeQkx3Quants(int n, int nmax, float[] x, int xo, float[] w, byte[] L, float rmin, float rdelta, int nstep) {
        byte[] laux = new byte[n];
        float min = x[xo], max = x[xo];
        float sumW = w[0];
        float sumX = sumW * x[xo];
        for (int i = 1; i < n; ++i) {
            if (x[xo + i] < min) min = x[xo + i];
            if (x[xo + i] > max) max = x[xo + i];
            sumW += w[i];
            sumX += w[i] * x[xo + i];
        }
        if (min > 0) min = 0;
        if (max <= min) {
            for (int i = 0; i < n; ++i) L[i] = 0;
            return new float[] {0.f, -min};
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestMad = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearestInt(iscale * (x[xo + i] - min));
            L[i] = (byte) Math.max(0, Math.min(nmax, l));
            float diff = scale * L[i] + min - x[xo + i];
            diff = diff * diff;
            bestMad += w[i] * diff;
        }
        for (int is = 0; is <= nstep; ++is) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXL = 0;
            for (int i = 0; i < n; ++i) {
                float v = iscale * (x[xo + i] - min);
                int l = v > 0 ? nearestInt(Math.min(v, (float) nmax)) : 0;
                laux[i] = (byte) l;
                sumL += w[i] * l;
                sumL2 += w[i] * l * l;
                sumXL += w[i] * l * x[xo + i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0) {
                float thisScale = (sumW * sumXL - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float mad = 0;
                for (int i = 0; i < n; ++i) {
                    float diff = thisScale * laux[i] + thisMin - x[xo + i];
                    diff = diff * diff;
                    mad += w[i] * diff;
                }
                if (mad < bestMad) {
                    System.arraycopy(laux, 0, L, 0, n);
                    bestMad = mad;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        return new float[] {scale, -min};
    }

    /** L as uint8 values (0..255) in an int array. */
    static float makeQpQuants(int n, int nmax, float[] x, int[] L, float[] qw) {
        float max = 0;
        for (int i = 0; i < n; ++i) max = Math.max(max, x[i]);
        if (max < 1e-15f) {
            for (int i = 0; i < n; ++i) L[i] = 0;
            return 0.f;
        }
        float iscale = nmax / max;
        for (int i = 0; i < n; ++i) L[i] = nearestInt(iscale * x[i]) & 0xFF;
        float scale = 1 / iscale;
        float bestMse = 0;
        for (int i = 0; i < n; ++i) {
            float diff = x[i] - scale * L[i];
            bestMse += qw[i] * diff * diff;
        }
        for (int is = -4; is <= 4; ++is) {
            if (is == 0) continue;
            float iscaleIs = (0.1f * is + nmax) / max;
            float scaleIs = 1 / iscaleIs;
            float mse = 0;
            for (int i = 0; i < n; ++i) {
                int l = Math.min(nmax, nearestInt(iscaleIs * x[i]));
                float diff = x[i] - scaleIs * l;
                mse += qw[i] * diff * diff;
            }
            if (mse < bestMse) { bestMse = mse; iscale = iscaleIs; }
        }
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; ++i) {
            int l = Math.min(nmax, nearestInt(iscale * x[i]));
            L[i] = l & 0xFF;
            sumlx += qw[i] * x[i] * l;
            suml2 += qw[i] * l * l;
        }
        for (int itry = 0; itry < 5; ++itry) {
            int changed = 0;
            for (int i = 0; i < n; ++i) {
                float w = qw[i];
                float slx = sumlx - w * x[i] * L[i];
                float sl2 = suml2 - w * L[i] * L[i];
                if (slx > 0 && sl2 > 0) {
                    int newL = Math.min(nmax, nearestInt(x[i] * sl2 / slx));
                    if (newL != L[i]) {
                        slx += w * x[i] * newL;
                        sl2 += w * newL * newL;
                        if (slx * slx * suml2 > sumlx * sumlx * sl2) {
                            L[i] = newL & 0xFF; sumlx = slx; suml2 = sl2;
                            ++changed;
                        }
                    }
                }
            }
            if (changed == 0) break;
        }
        return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
    }

    /** quantize_TYPE(src, dst, nrow, n_per_row, quant_weights) for the weighted types. */
    static byte[] quantize(GgmlType type, float[] src, int nrow, int nPerRow, float[] qw) {
        ByteBuffer y = ByteBuffer.allocate(Math.toIntExact(type.byteSize((long) nrow * nPerRow))).order(ByteOrder.LITTLE_ENDIAN);
        for (int row = 0; row < nrow; row++) {
            int x = row * nPerRow;
            switch (type) {
                case Q4_0, Q5_0, Q4_1, Q5_1 -> legacyRow(type, src, x, nPerRow, qw, y);
                case Q4_K, Q5_K -> scaleMinKRow(type, src, x, nPerRow, qw, y);
                case Q6_K -> q6KRow(src, x, nPerRow, qw, y);
                case IQ4_NL -> iq4nlRow(src, x, nPerRow, qw, y);
                default -> throw new IllegalArgumentException(type.toString());
            }
        }
        return y.array();
    }

    private static void legacyRow(GgmlType type, float[] src, int x, int n, float[] qw, ByteBuffer y) {
        float sumX2 = 0;
        for (int j = 0; j < n; ++j) sumX2 += src[x + j] * src[x + j];
        float sigma2 = sumX2 / n;
        float[] weight = new float[32];
        byte[] L = new byte[32];
        for (int ib = 0; ib < n / 32; ++ib) {
            int xb = x + 32 * ib;
            for (int j = 0; j < 32; ++j) weight[j] = qw[32 * ib + j] * sqrtf(sigma2 + src[xb + j] * src[xb + j]);
            switch (type) {
                case Q4_0 -> {
                    float d = makeQxQuants(32, 8, src, xb, L, weight, 0);
                    y.putShort(fp16(d));
                    for (int j = 0; j < 16; ++j) y.put((byte) (L[j] | (L[j + 16] << 4)));
                }
                case Q5_0 -> {
                    float d = makeQxQuants(32, 16, src, xb, L, weight, 0);
                    y.putShort(fp16(d));
                    y.putInt(fifthBits(L));
                    for (int j = 0; j < 16; ++j) y.put((byte) ((L[j] & 0x0F) | ((L[j + 16] & 0x0F) << 4)));
                }
                case Q4_1, Q5_1 -> {
                    int nmax = type == GgmlType.Q4_1 ? 15 : 31;
                    float[] dm = makeQkx3Quants(32, nmax, src, xb, weight, L, -0.9f, 0.05f, 36);
                    y.putShort(fp16(dm[0]));
                    y.putShort(fp16(-dm[1]));
                    if (type == GgmlType.Q5_1) y.putInt(fifthBits(L));
                    for (int j = 0; j < 16; ++j) y.put((byte) ((L[j] & 0x0F) | ((L[j + 16] & 0x0F) << 4)));
                }
                default -> throw new IllegalArgumentException(type.toString());
            }
        }
    }

    private static int fifthBits(byte[] L) {
        int qh = 0;
        for (int j = 0; j < 16; ++j) {
            qh |= ((L[j] & 0x10) >> 4) << j;
            qh |= ((L[j + 16] & 0x10) >> 4) << (j + 16);
        }
        return qh;
    }

    private static void scaleMinKRow(GgmlType type, float[] src, int x0, int n, float[] qw, ByteBuffer y) {
        int nmax = type == GgmlType.Q4_K ? 15 : 31;
        byte[] L = new byte[256];
        byte[] Lsub = new byte[32];
        float[] mins = new float[8], scales = new float[8], sw = new float[8], weights = new float[32];
        int[] Ls = new int[8], Lm = new int[8];
        for (int i = 0; i < n / 256; i++) {
            int x = x0 + 256 * i;
            float sumX2 = 0;
            for (int l = 0; l < 256; ++l) sumX2 += src[x + l] * src[x + l];
            float sigma2 = 2 * sumX2 / 256;
            for (int j = 0; j < 8; ++j) {
                for (int l = 0; l < 32; ++l) weights[l] = qw[256 * i + 32 * j + l] * sqrtf(sigma2 + src[x + 32 * j + l] * src[x + 32 * j + l]);
                float sumw = 0;
                for (int l = 0; l < 32; ++l) sumw += weights[l];
                sw[j] = sumw;
                float[] r = makeQkx3Quants(32, nmax, src, x + 32 * j, weights, Lsub, -0.9f, 0.05f, 36);
                scales[j] = r[0];
                mins[j] = r[1];
                System.arraycopy(Lsub, 0, L, 32 * j, 32);
            }
            float dBlock = makeQpQuants(8, 63, scales, Ls, sw);
            float mBlock = makeQpQuants(8, 63, mins, Lm, sw);
            byte[] sc = new byte[12];
            for (int j = 0; j < 8; ++j) {
                int ls = Ls[j], lm = Lm[j];
                if (type == GgmlType.Q5_K) { ls = Math.min(63, ls); lm = Math.min(63, lm); }
                if (j < 4) { sc[j] = (byte) ls; sc[j + 4] = (byte) lm; }
                else {
                    sc[j + 4] = (byte) ((ls & 0xF) | ((lm & 0xF) << 4));
                    sc[j - 4] |= (byte) ((ls >> 4) << 6);
                    sc[j] |= (byte) ((lm >> 4) << 6);
                }
            }
            short d16 = fp16(dBlock), m16 = fp16(mBlock);
            for (int j = 0; j < 8; ++j) {
                int s, m;
                if (j < 4) { s = sc[j] & 63; m = sc[j + 4] & 63; }
                else { s = (sc[j + 4] & 0xF) | (((sc[j - 4] & 0xFF) >> 6) << 4); m = ((sc[j + 4] & 0xFF) >> 4) | (((sc[j] & 0xFF) >> 6) << 4); }
                float d = fromFp16(d16) * s;
                if (d == 0) continue;
                float dm = fromFp16(m16) * m;
                for (int ii = 0; ii < 32; ++ii) {
                    int l = nearestInt((src[x + 32 * j + ii] + dm) / d);
                    L[32 * j + ii] = (byte) Math.max(0, Math.min(nmax, l));
                }
            }
            y.putShort(d16).putShort(m16).put(sc);
            if (type == GgmlType.Q5_K) {
                byte[] qh = new byte[32];
                int m1 = 1, m2 = 2;
                for (int nn = 0; nn < 256; nn += 64) {
                    for (int j = 0; j < 32; ++j) {
                        if (L[nn + j] > 15) qh[j] |= (byte) m1;
                        if (L[nn + j + 32] > 15) qh[j] |= (byte) m2;
                    }
                    m1 <<= 2; m2 <<= 2;
                }
                y.put(qh);
            }
            for (int j = 0; j < 256; j += 64) {
                for (int l = 0; l < 32; ++l) y.put((byte) ((L[j + l] & 0xF) | ((L[j + l + 32] & 0xF) << 4)));
            }
        }
    }

    private static void q6KRow(float[] src, int x0, int n, float[] qw, ByteBuffer y) {
        byte[] L = new byte[256];
        byte[] Lsub = new byte[16];
        float[] scales = new float[16];
        for (int i = 0; i < n / 256; i++) {
            int x = x0 + 256 * i;
            int start = y.position();
            float maxScale = 0, maxAbsScale = 0;
            for (int ib = 0; ib < 16; ++ib) {
                float scale = makeQxQuants(16, 32, src, x + 16 * ib, Lsub, qw, 256 * i + 16 * ib);
                System.arraycopy(Lsub, 0, L, 16 * ib, 16);
                scales[ib] = scale;
                if (Math.abs(scale) > maxAbsScale) { maxAbsScale = Math.abs(scale); maxScale = scale; }
            }
            if (maxAbsScale < 1e-15f) {
                y.position(start + 210);
                continue;
            }
            float iscale = -128.f / maxScale;
            short d16 = fp16(1 / iscale);
            byte[] sc = new byte[16];
            for (int ib = 0; ib < 16; ++ib) sc[ib] = (byte) Math.min(127, nearestInt(iscale * scales[ib]));
            for (int j = 0; j < 16; ++j) {
                float d = fromFp16(d16) * sc[j];
                if (d == 0) continue;
                for (int ii = 0; ii < 16; ++ii) {
                    int l = nearestInt(src[x + 16 * j + ii] / d);
                    L[16 * j + ii] = (byte) (Math.max(-32, Math.min(31, l)) + 32);
                }
            }
            byte[] ql = new byte[128], qh = new byte[64];
            for (int j = 0, qlo = 0, qho = 0; j < 256; j += 128, qlo += 64, qho += 32) {
                for (int l = 0; l < 32; ++l) {
                    int q1 = L[j + l] & 0xF, q2 = L[j + l + 32] & 0xF, q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
                    ql[qlo + l] = (byte) (q1 | (q3 << 4));
                    ql[qlo + l + 32] = (byte) (q2 | (q4 << 4));
                    qh[qho + l] = (byte) ((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
                }
            }
            y.put(ql).put(qh).put(sc).putShort(d16);
        }
    }

    static final int[] KVALUES = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    /** best_index_int8 of current ggml: level i once x reaches the midpoint of levels i-1 and i. */
    static int bestIndex(float x) {
        float x2 = x + x;
        int idx = 0;
        for (int step = 8; step > 0; step >>= 1) {
            int j = idx + step;
            idx = x2 >= (float) (KVALUES[j - 1] + KVALUES[j]) ? j : idx;
        }
        return idx;
    }

    private static void iq4nlRow(float[] src, int x0, int n, float[] qw, ByteBuffer y) {
        float[] weight = new float[32];
        int[] L = new int[32];
        for (int ibl = 0; ibl < n / 32; ++ibl) {
            int x = x0 + 32 * ibl;
            float sigma2 = 0;
            for (int j = 0; j < 32; ++j) sigma2 += src[x + j] * src[x + j];
            sigma2 *= 2.f / 32;
            for (int j = 0; j < 32; ++j) weight[j] = qw[32 * ibl + j] * sqrtf(sigma2 + src[x + j] * src[x + j]);
            float amax = 0, max = 0;
            for (int j = 0; j < 32; ++j) {
                float ax = Math.abs(src[x + j]);
                if (ax > amax) { amax = ax; max = src[x + j]; }
            }
            float scale;
            if (amax < 1e-15f) {
                scale = 0;
            } else {
                float d = -max / KVALUES[0];
                float id = 1 / d;
                float sumqx = 0, sumq2 = 0;
                for (int j = 0; j < 32; ++j) {
                    float q = KVALUES[bestIndex(id * src[x + j])];
                    sumqx += weight[j] * q * src[x + j];
                    sumq2 += weight[j] * q * q;
                }
                d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
                float best = d * sumqx;
                for (int itry = -7; itry <= 7; ++itry) {
                    id = (itry + KVALUES[0]) / max;
                    sumqx = sumq2 = 0;
                    for (int j = 0; j < 32; ++j) {
                        float q = KVALUES[bestIndex(id * src[x + j])];
                        sumqx += weight[j] * q * src[x + j];
                        sumq2 += weight[j] * q * q;
                    }
                    if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                        d = sumqx / sumq2;
                        best = d * sumqx;
                    }
                }
                scale = d;
            }
            y.putShort(fp16(scale));
            float id = scale != 0 ? 1 / scale : 0;
            for (int j = 0; j < 32; ++j) L[j] = bestIndex(id * src[x + j]);
            for (int j = 0; j < 16; ++j) y.put((byte) (L[j] | (L[j + 16] << 4)));
        }
    }
}
