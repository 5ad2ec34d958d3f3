package io.panllm.tensor;

import static io.panllm.tensor.KQuants.QK_K;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.MemorySegment;

/**
 * Q6_K: ql[128] (low 4 bits), qh[64] (high 2 bits), scales[16] int8, d (fp16); 16 sub-blocks of 16
 * with x = d * scale * (q - 32). Each 128 elements use 64 ql bytes and 32 qh bytes: element
 * 128 n + 32 p + l (p < 4, l < 32) has its low bits in the low (p even) or high (p odd) nibble of
 * ql[64 n + l + 32 (p & 1)] and its high bits at bits 2p of qh[32 n + l].
 * Quantizing is quantize_row_q6_K_ref: make_qx_quants per sub-block, the 16 scales rounded to int8
 * against the largest one, then every code recomputed from the rounded scales.
 */
final class Q6_KCodec extends QuantizedBlockCodec {
    private static final int QL_OFFSET = 0;
    private static final int QH_OFFSET = 128;
    private static final int SCALES_OFFSET = 192;
    private static final int D_OFFSET = 208;
    private static final int SUB = 16;

    Q6_KCodec() {
        super(GgmlType.Q6_K);
    }

    @Override
    void decodeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
        float d = LittleEndian.getFp16(src, offset + D_OFFSET);
        for (int n = 0; n < QK_K; n += 128) {
            long ql = offset + QL_OFFSET + n / 2;
            long qh = offset + QH_OFFSET + n / 4;
            long sc = offset + SCALES_OFFSET + n / 16;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int low = src.get(JAVA_BYTE, ql + l) & 0xFF;
                int low32 = src.get(JAVA_BYTE, ql + l + 32) & 0xFF;
                int high = src.get(JAVA_BYTE, qh + l) & 0xFF;
                int q1 = ((low & 0xF) | ((high & 3) << 4)) - 32;
                int q2 = ((low32 & 0xF) | (((high >>> 2) & 3) << 4)) - 32;
                int q3 = ((low >>> 4) | (((high >>> 4) & 3) << 4)) - 32;
                int q4 = ((low32 >>> 4) | (((high >>> 6) & 3) << 4)) - 32;
                dst[dstOffset + n + l] = d * src.get(JAVA_BYTE, sc + is) * q1;
                dst[dstOffset + n + l + 32] = d * src.get(JAVA_BYTE, sc + is + 2) * q2;
                dst[dstOffset + n + l + 64] = d * src.get(JAVA_BYTE, sc + is + 4) * q3;
                dst[dstOffset + n + l + 96] = d * src.get(JAVA_BYTE, sc + is + 6) * q4;
            }
        }
    }

    @Override
    BlockEncoder newEncoder() {
        Encoder encoder = new Encoder();
        return (x, xOffset, dst, offset) -> encoder.encodeBlock(x, xOffset, null, 0, dst, offset);
    }

    @Override
    public boolean usesImportance() {
        return true;
    }

    /**
     * quantize_row_q6_K_impl: the reference quantizer with make_qx_quants weighting each element by
     * its importance qw[j] itself (no sigma2 term: ggml left that variant commented out).
     */
    @Override
    WeightedRowEncoder newWeightedEncoder() {
        Encoder encoder = new Encoder();
        return (x, xOffset, n, qw, dst, offset) -> {
            for (int i = 0; i < n / QK_K; i++) {
                encoder.encodeBlock(x, xOffset + QK_K * i, qw, QK_K * i, dst, offset + (long) i * GgmlType.Q6_K.bytesPerBlock);
            }
        };
    }

    /** One super-block; qw null weights each element by x² (quantize_row_q6_K_ref). */
    private static final class Encoder {
        private final int[] codes = new int[QK_K];
        private final float[] scales = new float[QK_K / SUB];
        private final byte[] scaleCodes = new byte[QK_K / SUB];

        void encodeBlock(float[] x, int xOffset, float[] qw, int qwOffset, MemorySegment dst, long offset) {
            float maxScale = 0;
            float maxAbsScale = 0;
            for (int ib = 0; ib < QK_K / SUB; ib++) {
                float scale = KQuants.makeQxQuants(SUB, 32, x, xOffset + SUB * ib, codes, SUB * ib, qw, qwOffset + SUB * ib);
                scales[ib] = scale;
                if (Math.abs(scale) > maxAbsScale) {
                    maxAbsScale = Math.abs(scale);
                    maxScale = scale;
                }
            }
            if (maxAbsScale < QuantMath.GROUP_MAX_EPS) {
                dst.asSlice(offset, GgmlType.Q6_K.bytesPerBlock).fill((byte) 0);
                return;
            }

            float iscale = -128.f / maxScale;
            short dBits = HalfFloats.toFp16(1 / iscale);
            dst.set(LittleEndian.SHORT, offset + D_OFFSET, dBits);
            for (int ib = 0; ib < QK_K / SUB; ib++) {
                scaleCodes[ib] = (byte) Math.min(127, QuantMath.nearestInt(iscale * scales[ib]));
            }
            MemorySegment.copy(scaleCodes, 0, dst, JAVA_BYTE, offset + SCALES_OFFSET, scaleCodes.length);

            // Requantize against the scales as stored; a sub-block whose scale rounded to zero keeps
            // the codes of the search, as in ggml.
            float dAll = HalfFloats.fromFp16(dBits);
            for (int j = 0; j < QK_K / SUB; j++) {
                float d = dAll * scaleCodes[j];
                if (d == 0) {
                    continue;
                }
                for (int ii = 0; ii < SUB; ii++) {
                    int l = QuantMath.nearestInt(x[xOffset + SUB * j + ii] / d);
                    codes[SUB * j + ii] = Math.max(-32, Math.min(31, l)) + 32;
                }
            }
            putCodes(codes, dst, offset);
        }
    }

    private static void putCodes(int[] codes, MemorySegment dst, long offset) {
        for (int n = 0; n < QK_K; n += 128) {
            long ql = offset + QL_OFFSET + n / 2;
            long qh = offset + QH_OFFSET + n / 4;
            for (int l = 0; l < 32; l++) {
                int c1 = codes[n + l];
                int c2 = codes[n + l + 32];
                int c3 = codes[n + l + 64];
                int c4 = codes[n + l + 96];
                dst.set(JAVA_BYTE, ql + l, (byte) ((c1 & 0xF) | ((c3 & 0xF) << 4)));
                dst.set(JAVA_BYTE, ql + l + 32, (byte) ((c2 & 0xF) | ((c4 & 0xF) << 4)));
                dst.set(JAVA_BYTE, qh + l, (byte) ((c1 >>> 4) | ((c2 >>> 4) << 2) | ((c3 >>> 4) << 4) | ((c4 >>> 4) << 6)));
            }
        }
    }
}
