package io.panllm.runtime.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.panllm.tensor.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class VectorKernelsTest {

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q4_K", "Q6_K", "IQ4_NL", "NF4", "FP4"})
    void vectorDotMatchesScalarDotOnRandomBlocks(GgmlType type) {
        Random random = new Random(type.ordinal());
        RowKernel scalar = ScalarKernels.of(type);
        RowKernel vector = VectorKernels.of(type);
        // 512 elements: two k-quant super-blocks; plus an odd length for the float types' scalar tail.
        int[] lengths = type.isQuantized() ? new int[] {type.blockSize, 512} : new int[] {8, 37, 512};
        try (Arena arena = Arena.ofConfined()) {
            for (int n : lengths) {
                for (int trial = 0; trial < 20; trial++) {
                    MemorySegment row = RandomBlocks.row(type, n, random, arena);
                    int xOffset = trial % 3;
                    float[] x = RandomBlocks.floats(n + xOffset, random);
                    float[] decoded = new float[n];
                    scalar.dequantize(row, decoded, 0, n);
                    double magnitude = 0;
                    for (int i = 0; i < n; i++) {
                        magnitude += Math.abs(decoded[i] * x[xOffset + i]);
                    }
                    float expected = scalar.dot(row, x, xOffset, n);
                    float actual = vector.dot(row, x, xOffset, n);
                    assertThat((double) actual).as("%s n=%d trial %d", type, n, trial)
                            .isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-5 * magnitude + 1e-6));
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q4_K", "Q6_K", "IQ4_NL", "NF4", "FP4"})
    void vectorDecodeEqualsScalarDecode(GgmlType type) {
        Random random = new Random(100 + type.ordinal());
        int n = type.isQuantized() ? 512 : 45;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment row = RandomBlocks.row(type, n, random, arena);
            float[] expected = new float[n + 3];
            float[] actual = new float[n + 3];
            ScalarKernels.of(type).dequantize(row, expected, 3, n);
            VectorKernels.of(type).dequantize(row, actual, 3, n);
            assertThat(actual).containsExactly(expected);
        }
    }

    @Test
    void halfToFloatIsExactForEveryHalf() {
        short[] all = new short[65536];
        for (int i = 0; i < all.length; i++) {
            all[i] = (short) i;
        }
        float[] converted = new float[all.length];
        var species = VectorKernels.S;
        for (int i = 0; i < all.length; i += species.length()) {
            VectorKernels.halfToFloat(jdk.incubator.vector.ShortVector.fromArray(species, all, i)).intoArray(converted, i);
        }
        for (int i = 0; i < all.length; i++) {
            float expected = Float.float16ToFloat(all[i]);
            if (Float.isNaN(expected)) {
                assertThat(converted[i]).as("half 0x%04x", i).isNaN();
            } else {
                assertThat(Float.floatToIntBits(converted[i])).as("half 0x%04x", i).isEqualTo(Float.floatToIntBits(expected));
            }
        }
    }
}
