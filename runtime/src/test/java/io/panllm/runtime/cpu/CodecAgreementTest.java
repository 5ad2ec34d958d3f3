package io.panllm.runtime.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.panllm.tensor.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The vector kernels read what gguf-io's codecs write. */
class CodecAgreementTest {

    /** What the codec encodes, the vector dot reads back: quantize, then dot, against dequantize, then dot. */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0", "Q4_1", "Q4_K", "Q6_K", "IQ4_NL", "NF4", "FP4"})
    void vectorDotOfCodecOutput(GgmlType type) {
        Random random = new Random(900 + type.ordinal());
        int n = 512;
        float[] weights = RandomBlocks.floats(n, random);
        float[] x = RandomBlocks.floats(n, random);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment row = arena.allocate(type.byteSize(n));
            type.codec().quantize(weights, 0, n, row);
            float[] decoded = type.codec().dequantize(row, n);
            double expected = 0;
            double magnitude = 0;
            for (int i = 0; i < n; i++) {
                expected += (double) decoded[i] * x[i];
                magnitude += Math.abs((double) decoded[i] * x[i]);
            }
            assertThat((double) VectorKernels.of(type).dot(row, x, 0, n)).isCloseTo(expected,
                    org.assertj.core.data.Offset.offset(1e-5 * magnitude));
        }
    }
}
