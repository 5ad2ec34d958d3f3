package io.panllm.runtime.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.panllm.kernels.RandomWeights;
import io.panllm.kernels.WeightFormat;
import io.panllm.kernels.reference.Dequantize;
import io.panllm.tensor.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The GPU kernels' CPU reference (kernels' own plain dequantization, which must not depend on
 * gguf-io) against the gguf-io codecs, the ground truth of every block layout: the same random
 * blocks must give the same floats, bit for bit. Runs without a GPU.
 */
class KernelReferenceTest {
    @ParameterizedTest
    @EnumSource(WeightFormat.class)
    void kernelReferenceDequantizesAsTheCodecs(WeightFormat format) {
        Random random = new Random(42 + format.ordinal());
        int rows = 3;
        int cols = 2 * Math.max(256, format.blockSize);
        GgmlType type = GgmlType.valueOf(format.name());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment weights = RandomWeights.matrix(arena, random, format, rows, cols);
            long rowBytes = format.rowBytes(cols);
            assertThat(type.byteSize(cols)).as("row bytes of %s", format).isEqualTo(rowBytes);
            for (int row = 0; row < rows; row++) {
                float[] expected = type.codec().dequantize(weights.asSlice(row * rowBytes, rowBytes), cols);
                float[] actual = Dequantize.row(format, weights, row, cols);
                for (int i = 0; i < cols; i++) {
                    assertThat(Float.floatToIntBits(actual[i]))
                            .as("%s row %d element %d: %s vs codec %s", format, row, i, actual[i], expected[i])
                            .isEqualTo(Float.floatToIntBits(expected[i]));
                }
            }
        }
    }
}
