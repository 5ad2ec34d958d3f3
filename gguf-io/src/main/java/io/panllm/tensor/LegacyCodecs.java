package io.panllm.tensor;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.MemorySegment;

/**
 * The 32-element block types (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1), ports of llama.cpp's
 * quantize_row_*_ref and dequantize_row_* (ggml-quants.c). Layouts are in {@link GgmlType}.
 */
final class LegacyCodecs {
    private LegacyCodecs() {
    }

    private static final int QK = 32;

    /** Q8_0: d (fp16), qs[32] int8; x = d * q with d = amax / 127 and q = roundf(x / d). */
    static final class Q8_0 extends QuantizedBlockCodec {
        Q8_0() {
            super(GgmlType.Q8_0);
        }

        @Override
        void decodeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
            float d = LittleEndian.getFp16(src, offset);
            for (int j = 0; j < QK; j++) {
                dst[dstOffset + j] = src.get(JAVA_BYTE, offset + 2 + j) * d;
            }
        }

        @Override
        BlockEncoder newEncoder() {
            return (x, xOffset, dst, offset) -> {
                float amax = 0;
                for (int j = 0; j < QK; j++) {
                    float a = Math.abs(x[xOffset + j]);
                    amax = amax > a ? amax : a; // ggml's MAX(amax, fabsf(v)), NaN handling included
                }
                float d = amax / ((1 << 7) - 1);
                float id = d != 0 ? 1.0f / d : 0.0f;
                LittleEndian.setFp16(dst, offset, d);
                for (int j = 0; j < QK; j++) {
                    dst.set(JAVA_BYTE, offset + 2 + j, (byte) QuantMath.roundHalfAwayFromZero(x[xOffset + j] * id));
                }
            };
        }
    }

    /** Q4_0: d (fp16), qs[16]; x = d * (q - 8) with d = max / -8, max the signed largest magnitude. */
    static final class Q4_0 extends QuantizedBlockCodec {
        Q4_0() {
            super(GgmlType.Q4_0);
        }

        @Override
        void decodeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
            float d = LittleEndian.getFp16(src, offset);
            for (int j = 0; j < QK / 2; j++) {
                int packed = src.get(JAVA_BYTE, offset + 2 + j) & 0xFF;
                dst[dstOffset + j] = ((packed & 0x0F) - 8) * d;
                dst[dstOffset + j + QK / 2] = ((packed >>> 4) - 8) * d;
            }
        }

        @Override
        BlockEncoder newEncoder() {
            int[] codes = new int[QK];
            return (x, xOffset, dst, offset) -> {
                float d = QuantMath.signedAbsMax(x, xOffset, QK) / -8;
                float id = d != 0 ? 1.0f / d : 0.0f;
                LittleEndian.setFp16(dst, offset, d);
                for (int j = 0; j < QK; j++) {
                    // (int) truncates toward zero like C's (int8_t) cast of the non-negative sum
                    codes[j] = Math.min(15, (int) (x[xOffset + j] * id + 8.5f));
                }
                QuantMath.putNibbles32(codes, dst, offset + 2);
            };
        }

        @Override
        public boolean usesImportance() {
            return true;
        }

        /** quantize_row_q4_0_impl: the weighted make_qx_quants search with nmax 8. */
        @Override
        WeightedRowEncoder newWeightedEncoder() {
            int[] codes = new int[QK];
            return weightedRows(type.bytesPerBlock, (x, xOffset, weights, dst, offset) -> {
                float d = KQuants.makeQxQuants(QK, 8, x, xOffset, codes, 0, weights, 0);
                LittleEndian.setFp16(dst, offset, d);
                QuantMath.putNibbles32(codes, dst, offset + 2);
            });
        }
    }

    /** Q4_1: d, m (fp16), qs[16]; x = d * q + m with m = min and d = (max - min) / 15. */
    static final class Q4_1 extends QuantizedBlockCodec {
        Q4_1() {
            super(GgmlType.Q4_1);
        }

        @Override
        void decodeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
            float d = LittleEndian.getFp16(src, offset);
            float m = LittleEndian.getFp16(src, offset + 2);
            for (int j = 0; j < QK / 2; j++) {
                int packed = src.get(JAVA_BYTE, offset + 4 + j) & 0xFF;
                dst[dstOffset + j] = (packed & 0x0F) * d + m;
                dst[dstOffset + j + QK / 2] = (packed >>> 4) * d + m;
            }
        }

        @Override
        BlockEncoder newEncoder() {
            int[] codes = new int[QK];
            return (x, xOffset, dst, offset) -> {
                MinMax range = MinMax.of(x, xOffset);
                float d = (range.max - range.min) / ((1 << 4) - 1);
                float id = d != 0 ? 1.0f / d : 0.0f;
                LittleEndian.setFp16(dst, offset, d);
                LittleEndian.setFp16(dst, offset + 2, range.min);
                for (int j = 0; j < QK; j++) {
                    codes[j] = Math.min(15, (int) ((x[xOffset + j] - range.min) * id + 0.5f));
                }
                QuantMath.putNibbles32(codes, dst, offset + 4);
            };
        }

        @Override
        public boolean usesImportance() {
            return true;
        }

        /** quantize_row_q4_1_impl: the weighted make_qkx3_quants search with nmax 15. */
        @Override
        WeightedRowEncoder newWeightedEncoder() {
            int[] codes = new int[QK];
            int[] codesAux = new int[QK];
            float[] min = new float[1];
            return weightedRows(type.bytesPerBlock, (x, xOffset, weights, dst, offset) -> {
                float d = WeightedQuants.makeQkx3Quants(QK, 15, x, xOffset, weights, codes, 0, min, 0, codesAux,
                        -0.9f, 0.05f, 36);
                LittleEndian.setFp16(dst, offset, d);
                LittleEndian.setFp16(dst, offset + 2, -min[0]);
                QuantMath.putNibbles32(codes, dst, offset + 4);
            });
        }
    }

    /** Q5_0: d (fp16), qh[4], qs[16]; x = d * (q - 16) with d = max / -16. */
    static final class Q5_0 extends QuantizedBlockCodec {
        Q5_0() {
            super(GgmlType.Q5_0);
        }

        @Override
        void decodeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
            float d = LittleEndian.getFp16(src, offset);
            int qh = src.get(LittleEndian.INT, offset + 2);
            for (int j = 0; j < QK / 2; j++) {
                int packed = src.get(JAVA_BYTE, offset + 6 + j) & 0xFF;
                dst[dstOffset + j] = (((packed & 0x0F) | fifthBit(qh, j)) - 16) * d;
                dst[dstOffset + j + QK / 2] = (((packed >>> 4) | fifthBit(qh, j + 16)) - 16) * d;
            }
        }

        @Override
        BlockEncoder newEncoder() {
            int[] codes = new int[QK];
            return (x, xOffset, dst, offset) -> {
                float d = QuantMath.signedAbsMax(x, xOffset, QK) / -16;
                float id = d != 0 ? 1.0f / d : 0.0f;
                LittleEndian.setFp16(dst, offset, d);
                for (int j = 0; j < QK; j++) {
                    codes[j] = Math.min(31, (int) (x[xOffset + j] * id + 16.5f));
                }
                dst.set(LittleEndian.INT, offset + 2, QuantMath.fifthBits32(codes));
                QuantMath.putNibbles32(codes, dst, offset + 6);
            };
        }

        @Override
        public boolean usesImportance() {
            return true;
        }

        /** quantize_row_q5_0_impl: the weighted make_qx_quants search with nmax 16. */
        @Override
        WeightedRowEncoder newWeightedEncoder() {
            int[] codes = new int[QK];
            return weightedRows(type.bytesPerBlock, (x, xOffset, weights, dst, offset) -> {
                float d = KQuants.makeQxQuants(QK, 16, x, xOffset, codes, 0, weights, 0);
                LittleEndian.setFp16(dst, offset, d);
                dst.set(LittleEndian.INT, offset + 2, QuantMath.fifthBits32(codes));
                QuantMath.putNibbles32(codes, dst, offset + 6);
            });
        }
    }

    /** Q5_1: d, m (fp16), qh[4], qs[16]; x = d * q + m with m = min and d = (max - min) / 31. */
    static final class Q5_1 extends QuantizedBlockCodec {
        Q5_1() {
            super(GgmlType.Q5_1);
        }

        @Override
        void decodeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
            float d = LittleEndian.getFp16(src, offset);
            float m = LittleEndian.getFp16(src, offset + 2);
            int qh = src.get(LittleEndian.INT, offset + 4);
            for (int j = 0; j < QK / 2; j++) {
                int packed = src.get(JAVA_BYTE, offset + 8 + j) & 0xFF;
                dst[dstOffset + j] = ((packed & 0x0F) | fifthBit(qh, j)) * d + m;
                dst[dstOffset + j + QK / 2] = ((packed >>> 4) | fifthBit(qh, j + 16)) * d + m;
            }
        }

        @Override
        BlockEncoder newEncoder() {
            int[] codes = new int[QK];
            return (x, xOffset, dst, offset) -> {
                MinMax range = MinMax.of(x, xOffset);
                float d = (range.max - range.min) / ((1 << 5) - 1);
                float id = d != 0 ? 1.0f / d : 0.0f;
                LittleEndian.setFp16(dst, offset, d);
                LittleEndian.setFp16(dst, offset + 2, range.min);
                for (int j = 0; j < QK; j++) {
                    // no clamp here, as in quantize_row_q5_1_ref: the sum never exceeds 31.5
                    codes[j] = (int) ((x[xOffset + j] - range.min) * id + 0.5f);
                }
                dst.set(LittleEndian.INT, offset + 4, QuantMath.fifthBits32(codes));
                QuantMath.putNibbles32(codes, dst, offset + 8);
            };
        }

        @Override
        public boolean usesImportance() {
            return true;
        }

        /** quantize_row_q5_1_impl: the weighted make_qkx3_quants search with nmax 31. */
        @Override
        WeightedRowEncoder newWeightedEncoder() {
            int[] codes = new int[QK];
            int[] codesAux = new int[QK];
            float[] min = new float[1];
            return weightedRows(type.bytesPerBlock, (x, xOffset, weights, dst, offset) -> {
                float d = WeightedQuants.makeQkx3Quants(QK, 31, x, xOffset, weights, codes, 0, min, 0, codesAux,
                        -0.9f, 0.05f, 36);
                LittleEndian.setFp16(dst, offset, d);
                LittleEndian.setFp16(dst, offset + 2, -min[0]);
                dst.set(LittleEndian.INT, offset + 4, QuantMath.fifthBits32(codes));
                QuantMath.putNibbles32(codes, dst, offset + 8);
            });
        }
    }

    /** Encodes one 32-element block given its element weights. */
    private interface WeightedBlock {
        void encode(float[] x, int xOffset, float[] weights, MemorySegment dst, long offset);
    }

    /**
     * The row loop the four weighted legacy quantizers share: sigma2 is the mean of x² over the
     * whole row, and element j of each block is weighted by qw[j] * sqrt(sigma2 + x[j]²).
     */
    private static QuantizedBlockCodec.WeightedRowEncoder weightedRows(int bytesPerBlock, WeightedBlock block) {
        float[] weights = new float[QK];
        return (x, xOffset, n, qw, dst, offset) -> {
            float sigma2 = WeightedQuants.meanSquare(x, xOffset, n);
            for (int ib = 0; ib < n / QK; ib++) {
                WeightedQuants.elementWeights(qw, QK * ib, x, xOffset + QK * ib, QK, sigma2, weights);
                block.encode(x, xOffset + QK * ib, weights, dst, offset + (long) ib * bytesPerBlock);
            }
        };
    }

    /** Bit 4 of element j's code, from the qh word of a Q5 block. */
    private static int fifthBit(int qh, int j) {
        return ((qh >>> j) & 1) << 4;
    }

    /** Smallest and largest of a 32-element block, scanned as quantize_row_q4_1_ref scans it. */
    private record MinMax(float min, float max) {
        static MinMax of(float[] x, int offset) {
            float min = Float.MAX_VALUE;
            float max = -Float.MAX_VALUE;
            for (int j = 0; j < QK; j++) {
                float v = x[offset + j];
                if (v < min) {
                    min = v;
                }
                if (v > max) {
                    max = v;
                }
            }
            return new MinMax(min, max);
        }
    }
}
