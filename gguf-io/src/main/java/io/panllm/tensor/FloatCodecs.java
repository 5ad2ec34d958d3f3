package io.panllm.tensor;

import java.lang.foreign.MemorySegment;

/** The unquantized float types: one element per block, converted element by element. */
final class FloatCodecs {
    private FloatCodecs() {
    }

    /** F32: a bulk little-endian copy. */
    static final class F32 extends AbstractBlockCodec {
        F32() {
            super(GgmlType.F32);
        }

        @Override
        void decode(MemorySegment src, float[] dst, int dstOffset, int n) {
            MemorySegment.copy(src, LittleEndian.FLOAT, 0, dst, dstOffset, n);
        }

        @Override
        void encode(float[] src, int srcOffset, int n, MemorySegment dst) {
            MemorySegment.copy(src, srcOffset, dst, LittleEndian.FLOAT, 0, n);
        }
    }

    /** F16: IEEE half, rounded to nearest even like ggml_fp32_to_fp16_row. */
    static final class F16 extends AbstractBlockCodec {
        F16() {
            super(GgmlType.F16);
        }

        @Override
        void decode(MemorySegment src, float[] dst, int dstOffset, int n) {
            for (int i = 0; i < n; i++) {
                dst[dstOffset + i] = HalfFloats.fromFp16(src.get(LittleEndian.SHORT, 2L * i));
            }
        }

        @Override
        void encode(float[] src, int srcOffset, int n, MemorySegment dst) {
            for (int i = 0; i < n; i++) {
                dst.set(LittleEndian.SHORT, 2L * i, HalfFloats.toFp16(src[srcOffset + i]));
            }
        }
    }

    /** BF16: the top half of a float32, rounded like ggml_fp32_to_bf16_row_ref. */
    static final class BF16 extends AbstractBlockCodec {
        BF16() {
            super(GgmlType.BF16);
        }

        @Override
        void decode(MemorySegment src, float[] dst, int dstOffset, int n) {
            for (int i = 0; i < n; i++) {
                dst[dstOffset + i] = HalfFloats.fromBf16(src.get(LittleEndian.SHORT, 2L * i));
            }
        }

        @Override
        void encode(float[] src, int srcOffset, int n, MemorySegment dst) {
            for (int i = 0; i < n; i++) {
                dst.set(LittleEndian.SHORT, 2L * i, HalfFloats.toBf16(src[srcOffset + i]));
            }
        }
    }

    /**
     * I8: one int8 per element, x = q. (panllm's LLM.int8 weights keep their row scale in a
     * companion {@code .scb} tensor, applied by the runtime: see {@link Int8RowWise}.) Encoding
     * rounds half to even and saturates to [-128, 127].
     */
    static final class I8 extends AbstractBlockCodec {
        I8() {
            super(GgmlType.I8);
        }

        @Override
        void decode(MemorySegment src, float[] dst, int dstOffset, int n) {
            for (int i = 0; i < n; i++) {
                dst[dstOffset + i] = src.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i);
            }
        }

        @Override
        void encode(float[] src, int srcOffset, int n, MemorySegment dst) {
            for (int i = 0; i < n; i++) {
                float q = (float) Math.rint(src[srcOffset + i]);
                dst.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) Math.max(-128f, Math.min(127f, q)));
            }
        }
    }
}
