package io.panllm.tensor;

import static io.panllm.tensor.KQuants.QK_K;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.MemorySegment;

/**
 * What Q4_K and Q5_K share: 256 elements in 8 sub-blocks of 32, each with a 6-bit scale and a 6-bit
 * min, x = d * scale * q - dmin * min. Quantizing follows quantize_row_q4_K_ref / q5_K_ref: an
 * asymmetric scale search per sub-block (make_qkx2_quants, weights av_x + |x|), the scales and mins
 * rounded to 6 bits against the block maxima, then every code recomputed from the rounded scales.
 * The two types differ only in the code width, the search grid and how the codes are packed.
 */
abstract class ScaleMinKCodec extends QuantizedBlockCodec {
    static final int D_OFFSET = 0;
    static final int DMIN_OFFSET = 2;
    static final int SCALES_OFFSET = 4;
    private static final int SUB = 32;

    private final int nmax;
    private final float rmin;
    private final float rdelta;
    private final int nstep;

    /** Whether the weighted quantizer clamps the 6-bit codes to 63 before packing (q5_K_impl does, q4_K_impl not). */
    private final boolean clampsScaleCodes;

    ScaleMinKCodec(GgmlType type, int nmax, float rmin, float rdelta, int nstep, boolean clampsScaleCodes) {
        super(type);
        this.clampsScaleCodes = clampsScaleCodes;
        this.nmax = nmax;
        this.rmin = rmin;
        this.rdelta = rdelta;
        this.nstep = nstep;
    }

    /** Writes the 256 codes (0..nmax each) in this type's packing. */
    abstract void putCodes(int[] codes, MemorySegment dst, long blockOffset);

    @Override
    final BlockEncoder newEncoder() {
        return new Encoder();
    }

    private final class Encoder implements BlockEncoder {
        private final int[] codes = new int[QK_K];
        private final int[] codesAux = new int[SUB];
        private final float[] weights = new float[SUB];
        private final float[] scales = new float[QK_K / SUB];
        private final float[] mins = new float[QK_K / SUB];
        private final int[] scaleCodes = new int[QK_K / SUB];
        private final int[] minCodes = new int[QK_K / SUB];
        private final byte[] packedScales = new byte[12];

        @Override
        public void encodeBlock(float[] x, int xOffset, MemorySegment dst, long offset) {
            float maxScale = 0; // the min is subtracted, so no scale is negative
            float maxMin = 0;
            for (int j = 0; j < QK_K / SUB; j++) {
                int sub = xOffset + SUB * j;
                float sumX2 = 0;
                for (int l = 0; l < SUB; l++) {
                    sumX2 += x[sub + l] * x[sub + l];
                }
                float avX = (float) Math.sqrt(sumX2 / SUB);
                for (int l = 0; l < SUB; l++) {
                    weights[l] = avX + Math.abs(x[sub + l]);
                }
                scales[j] = KQuants.makeQkx2Quants(SUB, nmax, x, sub, weights, codes, SUB * j, mins, j, codesAux,
                        rmin, rdelta, nstep, false);
                if (scales[j] > maxScale) {
                    maxScale = scales[j];
                }
                if (mins[j] > maxMin) {
                    maxMin = mins[j];
                }
            }

            float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
            float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
            for (int j = 0; j < QK_K / SUB; j++) {
                // ggml stores nearest_int into a uint8_t before clamping, hence the & 0xFF
                scaleCodes[j] = Math.min(63, QuantMath.nearestInt(invScale * scales[j]) & 0xFF);
                minCodes[j] = Math.min(63, QuantMath.nearestInt(invMin * mins[j]) & 0xFF);
            }
            KQuants.packScalesAndMins(scaleCodes, minCodes, packedScales);
            short dBits = HalfFloats.toFp16(maxScale / 63.f);
            short dminBits = HalfFloats.toFp16(maxMin / 63.f);
            dst.set(LittleEndian.SHORT, offset + D_OFFSET, dBits);
            dst.set(LittleEndian.SHORT, offset + DMIN_OFFSET, dminBits);
            MemorySegment.copy(packedScales, 0, dst, JAVA_BYTE, offset + SCALES_OFFSET, packedScales.length);

            // Requantize against the scales as stored. A sub-block whose scale rounded to zero keeps
            // the codes of the search, as in ggml.
            float dAll = HalfFloats.fromFp16(dBits);
            float dminAll = HalfFloats.fromFp16(dminBits);
            for (int j = 0; j < QK_K / SUB; j++) {
                float d = dAll * scaleCodes[j];
                if (d == 0) {
                    continue;
                }
                float dm = dminAll * minCodes[j];
                for (int ii = 0; ii < SUB; ii++) {
                    int l = QuantMath.nearestInt((x[xOffset + SUB * j + ii] + dm) / d);
                    codes[SUB * j + ii] = Math.max(0, Math.min(nmax, l));
                }
            }
            putCodes(codes, dst, offset);
        }
    }

    @Override
    public final boolean usesImportance() {
        return true;
    }

    @Override
    final WeightedRowEncoder newWeightedEncoder() {
        return new WeightedEncoder();
    }

    /**
     * quantize_row_q4_K_impl / q5_K_impl: per sub-block the weighted make_qkx3_quants search (weights
     * qw * sqrt(sigma2 + x²), sigma2 = 2 * mean x² of the super-block), then the 8 scales and the 8
     * mins each fitted to 6 bits by make_qp_quants weighted by the sub-blocks' weight sums, and
     * every code recomputed from the scales as stored.
     */
    private final class WeightedEncoder implements WeightedRowEncoder {
        private final int[] codes = new int[QK_K];
        private final int[] codesAux = new int[SUB];
        private final float[] weights = new float[SUB];
        private final float[] scales = new float[QK_K / SUB];
        private final float[] mins = new float[QK_K / SUB];
        private final float[] weightSums = new float[QK_K / SUB];
        private final int[] scaleCodes = new int[QK_K / SUB];
        private final int[] minCodes = new int[QK_K / SUB];
        private final byte[] packedScales = new byte[12];

        @Override
        public void encodeRow(float[] x, int xOffset, int n, float[] qw, MemorySegment dst, long offset) {
            for (int i = 0; i < n / QK_K; i++) {
                encodeBlock(x, xOffset + QK_K * i, qw, QK_K * i, dst, offset + (long) i * type.bytesPerBlock);
            }
        }

        private void encodeBlock(float[] x, int xOffset, float[] qw, int qwOffset, MemorySegment dst, long offset) {
            float sumX2 = 0;
            for (int l = 0; l < QK_K; l++) {
                sumX2 += x[xOffset + l] * x[xOffset + l];
            }
            float sigma2 = 2 * sumX2 / QK_K;
            for (int j = 0; j < QK_K / SUB; j++) {
                WeightedQuants.elementWeights(qw, qwOffset + SUB * j, x, xOffset + SUB * j, SUB, sigma2, weights);
                float sumW = 0;
                for (int l = 0; l < SUB; l++) {
                    sumW += weights[l];
                }
                weightSums[j] = sumW;
                scales[j] = WeightedQuants.makeQkx3Quants(SUB, nmax, x, xOffset + SUB * j, weights, codes, SUB * j,
                        mins, j, codesAux, -0.9f, 0.05f, 36);
            }
            float dBlock = WeightedQuants.makeQpQuants(QK_K / SUB, 63, scales, scaleCodes, weightSums);
            float mBlock = WeightedQuants.makeQpQuants(QK_K / SUB, 63, mins, minCodes, weightSums);
            if (clampsScaleCodes) {
                for (int j = 0; j < QK_K / SUB; j++) {
                    scaleCodes[j] = Math.min(63, scaleCodes[j]);
                    minCodes[j] = Math.min(63, minCodes[j]);
                }
            }
            java.util.Arrays.fill(packedScales, (byte) 0);
            KQuants.packScalesAndMins(scaleCodes, minCodes, packedScales);
            short dBits = HalfFloats.toFp16(dBlock);
            short dminBits = HalfFloats.toFp16(mBlock);
            dst.set(LittleEndian.SHORT, offset + D_OFFSET, dBits);
            dst.set(LittleEndian.SHORT, offset + DMIN_OFFSET, dminBits);
            MemorySegment.copy(packedScales, 0, dst, JAVA_BYTE, offset + SCALES_OFFSET, packedScales.length);

            // Requantize against the scales as stored (read back with get_scale_min_k4, as ggml does)
            float dAll = HalfFloats.fromFp16(dBits);
            float dminAll = HalfFloats.fromFp16(dminBits);
            for (int j = 0; j < QK_K / SUB; j++) {
                float d = dAll * KQuants.packedScale(dst, offset + SCALES_OFFSET, j);
                if (d == 0) {
                    continue;
                }
                float dm = dminAll * KQuants.packedMin(dst, offset + SCALES_OFFSET, j);
                for (int ii = 0; ii < SUB; ii++) {
                    int l = QuantMath.nearestInt((x[xOffset + SUB * j + ii] + dm) / d);
                    codes[SUB * j + ii] = Math.max(0, Math.min(nmax, l));
                }
            }
            putCodes(codes, dst, offset);
        }
    }

    /** Scale (d * 6-bit scale) of sub-block j of the block at {@code offset}. */
    static float subScale(MemorySegment src, long offset, float d, int j) {
        return d * KQuants.packedScale(src, offset + SCALES_OFFSET, j);
    }

    /** Offset (dmin * 6-bit min) of sub-block j of the block at {@code offset}. */
    static float subMin(MemorySegment src, long offset, float dmin, int j) {
        return dmin * KQuants.packedMin(src, offset + SCALES_OFFSET, j);
    }

    /**
     * Q4_K: d, dmin (fp16), scales[12], qs[128]. Each 64 elements share 32 bytes: the first 32 in the
     * low nibbles, the next 32 in the high nibbles.
     */
    static final class Q4_K extends ScaleMinKCodec {
        private static final int QS_OFFSET = 16;

        Q4_K() {
            super(GgmlType.Q4_K, 15, -1.f, 0.1f, 20, false);
        }

        @Override
        void decodeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
            float d = LittleEndian.getFp16(src, offset + D_OFFSET);
            float dmin = LittleEndian.getFp16(src, offset + DMIN_OFFSET);
            for (int j = 0, is = 0; j < QK_K; j += 64, is += 2) {
                float d1 = subScale(src, offset, d, is);
                float m1 = subMin(src, offset, dmin, is);
                float d2 = subScale(src, offset, d, is + 1);
                float m2 = subMin(src, offset, dmin, is + 1);
                long qs = offset + QS_OFFSET + j / 2;
                for (int l = 0; l < 32; l++) {
                    int q = src.get(JAVA_BYTE, qs + l) & 0xFF;
                    dst[dstOffset + j + l] = d1 * (q & 0xF) - m1;
                    dst[dstOffset + j + 32 + l] = d2 * (q >>> 4) - m2;
                }
            }
        }

        @Override
        void putCodes(int[] codes, MemorySegment dst, long offset) {
            for (int j = 0; j < QK_K; j += 64) {
                for (int l = 0; l < 32; l++) {
                    dst.set(JAVA_BYTE, offset + QS_OFFSET + j / 2 + l,
                            (byte) (codes[j + l] | (codes[j + l + 32] << 4)));
                }
            }
        }
    }

    /**
     * Q5_K: d, dmin (fp16), scales[12], qh[32], qs[128]. Low 4 bits as Q4_K; the fifth bit of element
     * 64 * p + l (l < 32) is bit 2p of qh[l], of element 64 * p + 32 + l bit 2p + 1.
     */
    static final class Q5_K extends ScaleMinKCodec {
        private static final int QH_OFFSET = 16;
        private static final int QS_OFFSET = 48;

        Q5_K() {
            super(GgmlType.Q5_K, 31, -0.5f, 0.1f, 15, true);
        }

        @Override
        void decodeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
            float d = LittleEndian.getFp16(src, offset + D_OFFSET);
            float dmin = LittleEndian.getFp16(src, offset + DMIN_OFFSET);
            int u1 = 1;
            int u2 = 2;
            for (int j = 0, is = 0; j < QK_K; j += 64, is += 2) {
                float d1 = subScale(src, offset, d, is);
                float m1 = subMin(src, offset, dmin, is);
                float d2 = subScale(src, offset, d, is + 1);
                float m2 = subMin(src, offset, dmin, is + 1);
                long qs = offset + QS_OFFSET + j / 2;
                for (int l = 0; l < 32; l++) {
                    int q = src.get(JAVA_BYTE, qs + l) & 0xFF;
                    int h = src.get(JAVA_BYTE, offset + QH_OFFSET + l);
                    dst[dstOffset + j + l] = d1 * ((q & 0xF) + ((h & u1) != 0 ? 16 : 0)) - m1;
                    dst[dstOffset + j + 32 + l] = d2 * ((q >>> 4) + ((h & u2) != 0 ? 16 : 0)) - m2;
                }
                u1 <<= 2;
                u2 <<= 2;
            }
        }

        @Override
        void putCodes(int[] codes, MemorySegment dst, long offset) {
            for (int l = 0; l < 32; l++) {
                int high = 0;
                for (int p = 0; p < 4; p++) {
                    high |= (codes[64 * p + l] >>> 4) << (2 * p);
                    high |= (codes[64 * p + 32 + l] >>> 4) << (2 * p + 1);
                }
                dst.set(JAVA_BYTE, offset + QH_OFFSET + l, (byte) high);
            }
            for (int j = 0; j < QK_K; j += 64) {
                for (int l = 0; l < 32; l++) {
                    dst.set(JAVA_BYTE, offset + QS_OFFSET + j / 2 + l,
                            (byte) ((codes[j + l] & 0xF) | ((codes[j + l + 32] & 0xF) << 4)));
                }
            }
        }
    }
}
