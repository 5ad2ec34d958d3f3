package io.panllm.runtime.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.panllm.runtime.model.TensorView;
import io.panllm.tensor.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.assertj.core.data.Offset;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class CpuMatrixTest {

    /** A batch through the matrix-matrix path gives what one multiplication per vector gives, on several threads. */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "Q8_0", "Q4_0", "Q4_K", "Q6_K", "NF4", "I8"})
    void batchedProductEqualsOneVectorAtATime(GgmlType type) {
        Random random = new Random(11);
        int columns = 256;
        int rows = 300;
        int batch = 7; // one group of four and a remainder of three
        try (Arena arena = Arena.ofShared(); Parallel parallel = new Parallel(2)) {
            MemorySegment data = arena.allocate(type.byteSize((long) rows * columns));
            for (int r = 0; r < rows; r++) {
                MemorySegment.copy(RandomBlocks.row(type, columns, random, arena), 0, data, r * type.byteSize(columns),
                        type.byteSize(columns));
            }
            TensorView view = new TensorView("w", type, new long[] {columns, rows}, data);
            if (type == GgmlType.I8) { // LLM.int8: every row has its own scale (SCB / 127)
                float[] scb = new float[rows];
                for (int r = 0; r < rows; r++) {
                    scb[r] = (float) (random.nextDouble() * 0.5 + 0.01);
                }
                view = view.withRowScales(scb);
            }
            CpuMatrix matrix = new CpuMatrix(view, VectorKernels.of(type));
            float[] in = RandomBlocks.floats(columns * batch, random);
            float[] batched = new float[rows * batch];
            matrix.multiply(parallel, in, batch, batched);
            for (int b = 0; b < batch; b++) {
                float[] one = new float[rows];
                float[] x = java.util.Arrays.copyOfRange(in, b * columns, (b + 1) * columns);
                matrix.multiply(parallel, x, 1, one);
                for (int r = 0; r < rows; r++) {
                    // Both sum the same products in different orders: the rounding scales with sum |w x|.
                    float[] w = new float[columns];
                    matrix.dequantizeRow(r, w, 0);
                    double magnitude = 0;
                    double exact = 0;
                    for (int c = 0; c < columns; c++) {
                        magnitude += Math.abs((double) w[c] * x[c]);
                        exact += (double) w[c] * x[c];
                    }
                    Offset<Float> rounding = Offset.offset((float) (2e-5 * magnitude + 1e-6));
                    assertThat(batched[b * rows + r]).as("%s row %d vector %d", type, r, b).isCloseTo(one[r], rounding);
                    assertThat(one[r]).as("%s row %d vector %d vs its decoded row", type, r, b).isCloseTo((float) exact, rounding);
                }
            }
        }
    }
}
