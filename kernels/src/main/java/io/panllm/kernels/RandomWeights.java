package io.panllm.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

/** Random test inputs: GGUF weight blocks with plausible scales, and Gaussian vectors. */
public final class RandomWeights {
    private RandomWeights() {
    }

    /** A rows x cols matrix in {@code format}, every byte random except the scales (finite, small). */
    public static MemorySegment matrix(Arena arena, Random random, WeightFormat format, int rows, int cols) {
        MemorySegment weights = arena.allocate(format.matrixBytes(rows, cols), 16);
        long blocks = weights.byteSize() / format.blockBytes;
        byte[] block = new byte[format.blockBytes];
        for (long b = 0; b < blocks; b++) {
            random.nextBytes(block);
            MemorySegment.copy(block, 0, weights, ValueLayout.JAVA_BYTE, b * format.blockBytes, block.length);
            if (format == WeightFormat.F16) {
                for (int i = 0; i < format.blockSize; i++) {
                    weights.set(ValueLayout.JAVA_SHORT_UNALIGNED, b * format.blockBytes + 2L * i,
                            Float.floatToFloat16((random.nextFloat() - 0.5f) * 0.1f));
                }
            } else {
                // scale d like a real quantizer's: absmax / 7 or / 127 of weights around 0.05
                float d = (float) ((0.002 + random.nextDouble() * 0.02) * (random.nextBoolean() ? 1 : -1));
                weights.set(ValueLayout.JAVA_SHORT_UNALIGNED, b * format.blockBytes, Float.floatToFloat16(d));
            }
        }
        return weights;
    }

    public static float[] gaussian(Random random, int n, double scale) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (random.nextGaussian() * scale);
        }
        return values;
    }
}
