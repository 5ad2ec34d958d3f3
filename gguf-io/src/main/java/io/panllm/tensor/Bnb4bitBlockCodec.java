package io.panllm.tensor;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.MemorySegment;

/**
 * panllm's GGUF extension types NF4 and FP4: bitsandbytes' 4-bit codes in 64-element blocks, each an
 * fp16 absmax followed by 32 code bytes (element 2k in the high nibble of byte k); x = absmax * table[q].
 * Codes are chosen exactly as bitsandbytes chooses them (normalized by the float32 absmax), so a
 * tensor quantized here has the codes of {@link Bnb4bit#quantize}; only the stored absmax is rounded
 * to fp16.
 */
final class Bnb4bitBlockCodec extends QuantizedBlockCodec {
    private static final int QK = 64;

    private final Bnb4bit.QuantType quantType;

    Bnb4bitBlockCodec(GgmlType type, Bnb4bit.QuantType quantType) {
        super(type);
        this.quantType = quantType;
    }

    @Override
    void decodeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
        float absmax = LittleEndian.getFp16(src, offset);
        for (int k = 0; k < QK / 2; k++) {
            int packed = src.get(JAVA_BYTE, offset + 2 + k) & 0xFF;
            dst[dstOffset + 2 * k] = quantType.value(packed >>> 4) * absmax;
            dst[dstOffset + 2 * k + 1] = quantType.value(packed & 0x0F) * absmax;
        }
    }

    @Override
    BlockEncoder newEncoder() {
        return (x, xOffset, dst, offset) -> {
            float absmax = Bnb4bit.absMax(x, xOffset, QK);
            LittleEndian.setFp16(dst, offset, absmax);
            float inverse = 1.0f / absmax;
            for (int k = 0; k < QK / 2; k++) {
                int high = quantType.code(x[xOffset + 2 * k] * inverse);
                int low = quantType.code(x[xOffset + 2 * k + 1] * inverse);
                dst.set(JAVA_BYTE, offset + 2 + k, (byte) ((high << 4) | low));
            }
        };
    }
}
