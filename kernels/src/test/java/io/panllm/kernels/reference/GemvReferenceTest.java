package io.panllm.kernels.reference;

import io.panllm.kernels.WeightFormat;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.assertj.core.api.Assertions.assertThat;

/** The references read single elements right: x = unit vector e_k picks out weight k of the row. */
class GemvReferenceTest {
    private static float[] unit(int n, int k) {
        float[] x = new float[n];
        x[k] = 1;
        return x;
    }

    @Test
    void q4_0LowNibblesAreTheFirstHalfOfTheBlock() {
        try (Arena arena = Arena.ofConfined()) {
            // two blocks; block b has d = 0.5 * (b + 1); qs[j] = j (low) | (15 - j) << 4 (high)
            MemorySegment row = arena.allocate(36);
            for (int b = 0; b < 2; b++) {
                row.set(ValueLayout.JAVA_SHORT_UNALIGNED, 18L * b, Float.floatToFloat16(0.5f * (b + 1)));
                for (int j = 0; j < 16; j++) {
                    row.set(ValueLayout.JAVA_BYTE, 18L * b + 2 + j, (byte) (j | (15 - j) << 4));
                }
            }
            for (int b = 0; b < 2; b++) {
                float d = 0.5f * (b + 1);
                for (int j = 0; j < 16; j++) {
                    assertThat(GemvReference.multiply(WeightFormat.Q4_0, row, unit(64, 32 * b + j), 1, 64)[0]).isEqualTo(d * (j - 8));
                    assertThat(GemvReference.multiply(WeightFormat.Q4_0, row, unit(64, 32 * b + 16 + j), 1, 64)[0]).isEqualTo(d * (7 - j));
                }
            }
        }
    }

    @Test
    void q8_0QuantsAreSignedBytes() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment row = arena.allocate(34);
            row.set(ValueLayout.JAVA_SHORT_UNALIGNED, 0, Float.floatToFloat16(0.25f));
            for (int j = 0; j < 32; j++) {
                row.set(ValueLayout.JAVA_BYTE, 2 + j, (byte) (j * 8 - 128));
            }
            for (int j = 0; j < 32; j++) {
                assertThat(GemvReference.multiply(WeightFormat.Q8_0, row, unit(32, j), 1, 32)[0]).isEqualTo(0.25f * (j * 8 - 128));
            }
        }
    }

    @Test
    void f16RowsAreRowMajor() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment matrix = arena.allocate(2 * 3 * 8);
            for (int i = 0; i < 24; i++) {
                matrix.setAtIndex(ValueLayout.JAVA_SHORT, i, Float.floatToFloat16(i * 0.5f));
            }
            float[] y = GemvReference.multiply(WeightFormat.F16, matrix, unit(8, 5), 3, 8);
            assertThat(y).containsExactly(2.5f, 6.5f, 10.5f);
        }
    }
}
