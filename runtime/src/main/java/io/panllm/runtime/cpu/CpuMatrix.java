package io.panllm.runtime.cpu;

import io.panllm.runtime.model.TensorView;
import java.lang.foreign.MemorySegment;

/**
 * A weight matrix in its stored type (one stored row per output) and the kernel that computes
 * with it. INT8 (LLM.int8) matrices also carry a scale per row, applied to each row's result.
 */
final class CpuMatrix {
    private final TensorView weights;
    private final RowKernel kernel;
    private final int rows;
    private final int columns;
    private final long rowBytes;
    /** Per row: the factor of its codes (INT8 weights); null for the block types, whose scales are in the blocks. */
    private final float[] rowScale;

    CpuMatrix(TensorView weights, RowKernel kernel) {
        this.weights = weights;
        this.kernel = kernel;
        this.rows = Math.toIntExact(weights.rows());
        this.columns = Math.toIntExact(weights.rowLength());
        this.rowBytes = weights.rowBytes();
        if (weights.rowScales() == null) {
            this.rowScale = null;
        } else {
            this.rowScale = new float[rows];
            for (int r = 0; r < rows; r++) {
                rowScale[r] = weights.rowScale(r);
            }
        }
    }

    private float scale(int r) {
        return rowScale == null ? 1f : rowScale[r];
    }

    /** Decodes row r into out[outOffset ..], its row scale applied. */
    private void decode(int r, float[] out, int outOffset) {
        kernel.dequantize(row(r), out, outOffset, columns);
        if (rowScale != null) {
            FloatMath.scale(out, outOffset, columns, rowScale[r]);
        }
    }

    /** The weight tensor's name. */
    String name() {
        return weights.name();
    }

    int rows() {
        return rows;
    }

    int columns() {
        return columns;
    }

    MemorySegment row(int r) {
        return weights.data().asSlice(r * rowBytes, rowBytes);
    }

    /** Decodes row r into out[outOffset ..] (an embedding lookup). */
    void dequantizeRow(int r, float[] out, int outOffset) {
        decode(r, out, outOffset);
    }

    /**
     * out[b * rows + r] = row r . in[b * columns ..] for every b below batch: a matrix-matrix
     * product in which each weight row is read from memory once for the whole batch. The rows are
     * split among the threads.
     */
    void multiply(Parallel parallel, float[] in, int batch, float[] out) {
        long work = (long) rows * columns * batch;
        if (batch >= 4 && kernel.decodesFast() && FloatMath.tileable(columns)) {
            // Decode rows to floats once, four at a time, then multiply them with the activation
            // vectors in 4 x 4 tiles; the leftover rows and vectors one by one.
            parallel.forRange(rows, work, (start, end) -> {
                float[] decoded = new float[4 * columns];
                int r = start;
                for (; r + 4 <= end; r += 4) {
                    for (int i = 0; i < 4; i++) {
                        decode(r + i, decoded, i * columns);
                    }
                    int b = 0;
                    for (; b + 4 <= batch; b += 4) {
                        FloatMath.dotTile4x4(decoded, in, b * columns, columns, out, b * rows + r, rows);
                    }
                    for (int i = 0; i < 4; i++) {
                        for (int v = b; v < batch; v++) {
                            out[v * rows + r + i] = FloatMath.dot(decoded, i * columns, in, v * columns, columns);
                        }
                    }
                }
                for (; r < end; r++) {
                    decode(r, decoded, 0);
                    FloatMath.dotBatch(decoded, in, columns, batch, out, r, rows);
                }
            });
        } else {
            // The row stays in cache while it is dotted with each activation vector in turn.
            parallel.forRange(rows, work, (start, end) -> {
                for (int r = start; r < end; r++) {
                    MemorySegment row = row(r);
                    float scale = scale(r);
                    for (int b = 0; b < batch; b++) {
                        out[b * rows + r] = kernel.dot(row, in, b * columns, columns) * scale;
                    }
                }
            });
        }
    }
}
