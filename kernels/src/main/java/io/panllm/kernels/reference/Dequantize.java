package io.panllm.kernels.reference;

import io.panllm.kernels.WeightFormat;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * CPU reference dequantization of one row of a matrix in a {@link WeightFormat} (GGUF block
 * layouts, ggml-common.h). Deliberately plain: kernels must not depend on gguf-io, which owns the
 * real codecs.
 */
public final class Dequantize {
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    private Dequantize() {
    }

    /** Row {@code row} of a matrix of {@code cols} columns, as floats. */
    public static float[] row(WeightFormat format, MemorySegment weights, int row, int cols) {
        float[] values = new float[cols];
        long rowStart = row * format.rowBytes(cols);
        for (int b = 0; b < cols / format.blockSize; b++) {
            long block = rowStart + (long) b * format.blockBytes;
            int first = b * format.blockSize;
            switch (format) {
                case Q4_0 -> {
                    // fp16 d, qs[16]: element j = d * ((qs[j] & 15) - 8), element 16 + j = d * ((qs[j] >> 4) - 8)
                    float d = Float.float16ToFloat(weights.get(F16, block));
                    for (int j = 0; j < 16; j++) {
                        int packed = weights.get(ValueLayout.JAVA_BYTE, block + 2 + j) & 0xFF;
                        values[first + j] = d * ((packed & 15) - 8);
                        values[first + 16 + j] = d * ((packed >>> 4) - 8);
                    }
                }
                case Q8_0 -> {
                    // fp16 d, int8 qs[32]: element j = d * qs[j]
                    float d = Float.float16ToFloat(weights.get(F16, block));
                    for (int j = 0; j < 32; j++) {
                        values[first + j] = d * weights.get(ValueLayout.JAVA_BYTE, block + 2 + j);
                    }
                }
                case F16 -> {
                    for (int j = 0; j < format.blockSize; j++) {
                        values[first + j] = Float.float16ToFloat(weights.get(F16, block + 2L * j));
                    }
                }
            }
        }
        return values;
    }
}
