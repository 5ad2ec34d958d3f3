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
            randomizeScales(random, format, weights, b * format.blockBytes);
        }
        return weights;
    }

    /** Overwrites the block's floats (F16, BF16) or scales with finite values of a real quantizer's size. */
    private static void randomizeScales(Random random, WeightFormat format, MemorySegment weights, long block) {
        switch (format) {
            case F16, BF16 -> {
                for (int i = 0; i < format.blockSize; i++) {
                    float value = (random.nextFloat() - 0.5f) * 0.1f;
                    short bits = format == WeightFormat.F16 ? Float.floatToFloat16(value)
                            : (short) (Float.floatToRawIntBits(value) >>> 16);
                    weights.set(ValueLayout.JAVA_SHORT_UNALIGNED, block + 2L * i, bits);
                }
            }
            // d of Q4_0/Q8_0 like absmax / 7 or / 127 of weights around 0.05; the others' d and
            // absmax values alike, just so that every weight is finite and of a plausible size
            case Q4_0, Q8_0 -> setHalf(weights, block, signedScale(random, 0.002, 0.02));
            case IQ4_NL -> setHalf(weights, block, signedScale(random, 0.0002, 0.001));
            case NF4, FP4 -> setHalf(weights, block, (float) (0.02 + random.nextDouble() * 0.1));
            case Q4_K, Q5_K -> {
                setHalf(weights, block, (float) (0.0002 + random.nextDouble() * 0.001));      // d
                setHalf(weights, block + 2, (float) (0.0002 + random.nextDouble() * 0.005));  // dmin
            }
            case Q6_K -> setHalf(weights, block + 208, signedScale(random, 0.00001, 0.0001));
        }
    }

    private static float signedScale(Random random, double least, double spread) {
        return (float) ((least + random.nextDouble() * spread) * (random.nextBoolean() ? 1 : -1));
    }

    private static void setHalf(MemorySegment weights, long offset, float value) {
        weights.set(ValueLayout.JAVA_SHORT_UNALIGNED, offset, Float.floatToFloat16(value));
    }

    /** Rows of an embedding table in {@code format}: Gaussian floats for F32, else {@link #matrix}. */
    public static MemorySegment rows(Arena arena, Random random, DecodeKernels.RowFormat format, int rows, int cols) {
        if (format == DecodeKernels.RowFormat.F32) {
            return arena.allocateFrom(ValueLayout.JAVA_FLOAT, gaussian(random, rows * cols, 0.05));
        }
        return matrix(arena, random, WeightFormat.valueOf(format.name()), rows, cols);
    }

    public static float[] gaussian(Random random, int n, double scale) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (random.nextGaussian() * scale);
        }
        return values;
    }
}
