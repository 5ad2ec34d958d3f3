package io.panllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class Int8RowWiseTest {

    @Test
    void quantizesEachRowAgainstItsAbsmaxRoundingHalfToEven() {
        float[] x = {
            1, -2, 0.5f, 127, // absmax 127: scale 1; 0.5 rounds to even 0
            0, 0, 0, 0, // zero row: SCB 0, codes 0
            5, -254, 7, 1, // absmax 254: scale 0.5; 2.5 -> 2, 3.5 -> 4, 0.5 -> 0
        };
        byte[] weights = new byte[12];
        float[] scb = new float[3];

        Int8RowWise.quantize(x, 0, 3, 4, MemorySegment.ofArray(weights), scb);

        assertThat(scb).containsExactly(127f, 0f, 254f);
        assertThat(weights).containsExactly(1, -2, 0, 127, 0, 0, 0, 0, 2, -127, 4, 0);
    }

    @Test
    void dequantizesAsCodeTimesScbOver127() {
        byte[] weights = {127, -127, 64, 0, 1, -1};
        float[] out = new float[6];
        Int8RowWise.dequantize(MemorySegment.ofArray(weights), new float[] {127f, 2.54f}, 2, 3, out, 0);
        assertThat(out[0]).isCloseTo(127f, within(1e-4f));
        assertThat(out[1]).isCloseTo(-127f, within(1e-4f));
        assertThat(out[2]).isCloseTo(64f, within(1e-4f));
        assertThat(out[3]).isZero();
        assertThat(out[4]).isCloseTo(0.02f, within(1e-7f));
        assertThat(out[5]).isCloseTo(-0.02f, within(1e-7f));
    }

    @Test
    void roundTripErrorIsAtMostHalfAStepPerRow() {
        long seed = System.nanoTime();
        int rows = 16;
        int cols = 300;
        float[] x = CodecTestSupport.gaussian(seed, rows * cols, 0.05);
        MemorySegment weights = MemorySegment.ofArray(new byte[rows * cols]);
        float[] scb = new float[rows];
        Int8RowWise.quantize(x, 0, rows, cols, weights, scb);
        float[] back = new float[rows * cols];
        Int8RowWise.dequantize(weights, scb, rows, cols, back, 0);
        for (int i = 0; i < x.length; i++) {
            float halfStep = scb[i / cols] / 254f;
            assertThat(back[i]).as("seed %d, element %d", seed, i).isCloseTo(x[i], within(halfStep * 1.0001f));
        }
        // a single row decodes the same way
        float[] row = new float[cols];
        Int8RowWise.dequantizeRow(weights.asSlice(5L * cols, cols), scb[5], row, 0);
        for (int c = 0; c < cols; c++) {
            assertThat(row[c]).isEqualTo(back[5 * cols + c]);
        }
    }

    @Test
    void shapesThatDoNotFitAreRejected() {
        MemorySegment small = MemorySegment.ofArray(new byte[10]);
        assertThatThrownBy(() -> Int8RowWise.quantize(new float[12], 0, 3, 4, small, new float[3]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[3, 4] needs 12 bytes");
        assertThatThrownBy(() -> Int8RowWise.dequantize(small, new float[3], -1, 4, new float[12], 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("negative shape");
        assertThatThrownBy(() -> Int8RowWise.dequantize(MemorySegment.ofArray(new byte[12]), new float[2], 3, 4,
                new float[12], 0)).isInstanceOf(IndexOutOfBoundsException.class);
    }
}
