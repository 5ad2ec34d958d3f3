package io.panllm.tensor;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.MemorySegment;

/**
 * IQ4_NL: d (fp16), qs[16] as Q4_0, but the 4-bit code indexes a non-linear table: x = d * KVALUES[q].
 * Quantizing is llama.cpp's quantize_iq4_nl (what llama-quantize runs), without importance weights:
 * quantize_row_iq4_nl_impl with ntry = 7, weights x², a least-squares scale for the codes picked at
 * each of 15 trial scales around max / 127, and the codes then picked again for the best scale.
 */
final class IQ4_NLCodec extends QuantizedBlockCodec {
    private static final int QK = 32;
    private static final int NTRY = 7;

    /** ggml's kvalues_iq4nl, sorted ascending. */
    static final byte[] KVALUES = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    /** KVALUES[j - 1] + KVALUES[j] at index j (twice the midpoint below entry j), exact in float. */
    private static final float[] NEIGHBOUR_SUMS = new float[KVALUES.length];

    static {
        for (int j = 1; j < KVALUES.length; j++) {
            NEIGHBOUR_SUMS[j] = KVALUES[j - 1] + KVALUES[j];
        }
    }

    IQ4_NLCodec() {
        super(GgmlType.IQ4_NL);
    }

    @Override
    void decodeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
        float d = LittleEndian.getFp16(src, offset);
        for (int j = 0; j < QK / 2; j++) {
            int packed = src.get(JAVA_BYTE, offset + 2 + j) & 0xFF;
            dst[dstOffset + j] = d * KVALUES[packed & 0xF];
            dst[dstOffset + j + QK / 2] = d * KVALUES[packed >>> 4];
        }
    }

    /**
     * ggml's best_index_int8: the index of the table entry nearest to x, the upper one on a tie. It
     * compares 2x with the sum of two neighbours, both exact, so no midpoint is ever rounded.
     */
    static int bestIndex(float x) {
        float x2 = x + x;
        int index = 0;
        for (int step = KVALUES.length >> 1; step > 0; step >>= 1) {
            int j = index + step;
            if (x2 >= NEIGHBOUR_SUMS[j]) {
                index = j;
            }
        }
        return index;
    }

    @Override
    BlockEncoder newEncoder() {
        return new Encoder();
    }

    @Override
    public boolean usesImportance() {
        return true;
    }

    /**
     * quantize_iq4_nl with quant_weights: the same search, each element weighted by
     * qw[j] * sqrt(sigma2 + x[j]²) with sigma2 = 2 * mean x² of its block (not of the row).
     */
    @Override
    WeightedRowEncoder newWeightedEncoder() {
        Encoder encoder = new Encoder();
        return (x, xOffset, n, qw, dst, offset) -> {
            for (int ib = 0; ib < n / QK; ib++) {
                int block = xOffset + QK * ib;
                float sumX2 = 0;
                for (int j = 0; j < QK; j++) {
                    sumX2 += x[block + j] * x[block + j];
                }
                float sigma2 = sumX2 * (2.f / QK);
                WeightedQuants.elementWeights(qw, QK * ib, x, block, QK, sigma2, encoder.weights);
                encoder.encodeWithWeights(x, block, dst, offset + (long) ib * GgmlType.IQ4_NL.bytesPerBlock);
            }
        };
    }

    private static final class Encoder implements BlockEncoder {
        private final int[] codes = new int[QK];
        private final float[] weights = new float[QK];
        // the two sums of the least-squares scale for the codes picked at one trial scale
        private float sumQX;
        private float sumQ2;

        @Override
        public void encodeBlock(float[] x, int xOffset, MemorySegment dst, long offset) {
            for (int j = 0; j < QK; j++) {
                weights[j] = x[xOffset + j] * x[xOffset + j];
            }
            encodeWithWeights(x, xOffset, dst, offset);
        }

        /** Encodes the block with the element weights already in {@code weights}. */
        void encodeWithWeights(float[] x, int xOffset, MemorySegment dst, long offset) {
            float scale = bestScale(x, xOffset);
            LittleEndian.setFp16(dst, offset, scale);
            float id = scale != 0 ? 1 / scale : 0;
            for (int j = 0; j < QK; j++) {
                codes[j] = bestIndex(id * x[xOffset + j]);
            }
            QuantMath.putNibbles32(codes, dst, offset + 2);
        }

        /** The scale search of quantize_row_iq4_nl_impl for one block. */
        private float bestScale(float[] x, int xOffset) {
            float max = QuantMath.signedAbsMax(x, xOffset, QK);
            if (Math.abs(max) < QuantMath.GROUP_MAX_EPS) {
                return 0;
            }
            sumsAt(1 / (-max / KVALUES[0]), x, xOffset);
            float d = sumQ2 > 0 ? sumQX / sumQ2 : 0.f;
            float best = d * sumQX;
            for (int itry = -NTRY; itry <= NTRY; itry++) {
                sumsAt((itry + KVALUES[0]) / max, x, xOffset);
                if (sumQ2 > 0 && sumQX * sumQX > best * sumQ2) {
                    d = sumQX / sumQ2;
                    best = d * sumQX;
                }
            }
            return d;
        }

        /** Picks each code at inverse scale {@code id} and sums w q x and w q² with the element weights. */
        private void sumsAt(float id, float[] x, int xOffset) {
            sumQX = 0;
            sumQ2 = 0;
            for (int j = 0; j < QK; j++) {
                float xj = x[xOffset + j];
                float q = KVALUES[bestIndex(id * xj)];
                float w = weights[j];
                sumQX += w * q * xj;
                sumQ2 += w * q * q;
            }
        }
    }
}
