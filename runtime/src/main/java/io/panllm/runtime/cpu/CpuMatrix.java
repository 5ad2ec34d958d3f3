package io.panllm.runtime.cpu;

import io.panllm.runtime.model.TensorView;
import java.lang.foreign.MemorySegment;

/**
 * A weight matrix in its stored type (one stored row per output) and the kernel that computes
 * with it.
 */
final class CpuMatrix {
    private final TensorView weights;
    private final RowKernel kernel;
    private final int rows;
    private final int columns;
    private final long rowBytes;

    CpuMatrix(TensorView weights, RowKernel kernel) {
        this.weights = weights;
        this.kernel = kernel;
        this.rows = Math.toIntExact(weights.rows());
        this.columns = Math.toIntExact(weights.rowLength());
        this.rowBytes = weights.rowBytes();
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
        kernel.dequantize(row(r), out, outOffset, columns);
    }

    /**
     * out[b * rows + r] = row r . in[b * columns ..] for every b below batch: a matrix-matrix
     * product in which each weight row is read from memory once for the whole batch. The rows are
     * split among the threads.
     */
    void multiply(Parallel parallel, float[] in, int batch, float[] out) {
        parallel.forRange(rows, (long) rows * columns * batch, (start, end) -> {
            for (int r = start; r < end; r++) {
                kernel.dotBatch(row(r), in, columns, batch, out, r, rows);
            }
        });
    }
}
