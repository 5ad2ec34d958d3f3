package io.panllm.tensor;

import static io.panllm.tensor.KQuants.QK_K;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.MemorySegment;

/**
 * Q8_K: d (float32), qs[256] int8, bsums[16] int16 (the sum of each 16 codes); x = d * q. llama.cpp
 * uses it for activations in dot products, rarely in files. Quantizing is quantize_row_q8_K_ref
 * (scale -127 / max, so the largest magnitude maps to -127 and codes reach +127 at most).
 */
final class Q8_KCodec extends QuantizedBlockCodec {
    private static final int QS_OFFSET = 4;
    private static final int BSUMS_OFFSET = 4 + QK_K;

    Q8_KCodec() {
        super(GgmlType.Q8_K);
    }

    @Override
    void decodeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
        float d = src.get(LittleEndian.FLOAT, offset);
        for (int j = 0; j < QK_K; j++) {
            dst[dstOffset + j] = d * src.get(JAVA_BYTE, offset + QS_OFFSET + j);
        }
    }

    @Override
    BlockEncoder newEncoder() {
        return (x, xOffset, dst, offset) -> {
            float max = QuantMath.signedAbsMax(x, xOffset, QK_K);
            if (max == 0) {
                // ggml leaves bsums untouched here; zero is their only sensible value
                dst.asSlice(offset, GgmlType.Q8_K.bytesPerBlock).fill((byte) 0);
                return;
            }
            float iscale = -127.f / max;
            for (int j = 0; j < QK_K / 16; j++) {
                int sum = 0;
                for (int ii = 0; ii < 16; ii++) {
                    int q = (byte) Math.min(127, QuantMath.nearestInt(iscale * x[xOffset + 16 * j + ii]));
                    dst.set(JAVA_BYTE, offset + QS_OFFSET + 16 * j + ii, (byte) q);
                    sum += q;
                }
                dst.set(LittleEndian.SHORT, offset + BSUMS_OFFSET + 2L * j, (short) sum);
            }
            dst.set(LittleEndian.FLOAT, offset, 1 / iscale);
        };
    }
}
