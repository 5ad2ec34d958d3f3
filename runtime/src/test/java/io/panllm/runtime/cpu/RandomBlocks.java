package io.panllm.runtime.cpu;

import io.panllm.tensor.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

/** Random rows of any supported type: random code bytes with sane fp16 scales in the places the layout keeps them. */
final class RandomBlocks {
    private RandomBlocks() {
    }

    static MemorySegment row(GgmlType type, int n, Random random, Arena arena) {
        MemorySegment row = arena.allocate(type.byteSize(n));
        switch (type) {
            case F32 -> {
                for (int i = 0; i < n; i++) {
                    row.set(BlockBytes.FLOAT_LE, 4L * i, (float) random.nextGaussian());
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    row.set(BlockBytes.SHORT_LE, 2L * i, Float.floatToFloat16((float) random.nextGaussian()));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    row.set(BlockBytes.SHORT_LE, 2L * i, (short) (Float.floatToIntBits((float) random.nextGaussian()) >>> 16));
                }
            }
            case I8 -> {
                byte[] bytes = new byte[n];
                random.nextBytes(bytes);
                MemorySegment.copy(MemorySegment.ofArray(bytes), 0, row, 0, n);
            }
            default -> {
                byte[] bytes = new byte[(int) row.byteSize()];
                random.nextBytes(bytes);
                MemorySegment.copy(MemorySegment.ofArray(bytes), 0, row, 0, bytes.length);
                for (long block = 0; block < n / type.blockSize; block++) {
                    for (int offset : CpuBench.scaleOffsets(type)) {
                        float scale = (float) (random.nextDouble() * 0.1 + 0.001) * (random.nextBoolean() ? 1 : -1);
                        row.set(BlockBytes.SHORT_LE, block * type.bytesPerBlock + offset, Float.floatToFloat16(scale));
                    }
                }
            }
        }
        return row;
    }

    static float[] floats(int n, Random random) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
    }
}
