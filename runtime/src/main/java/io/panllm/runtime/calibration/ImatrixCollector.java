package io.panllm.runtime.calibration;

import io.panllm.runtime.cpu.MatrixInputs;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Accumulates the squared activations entering each matrix of the transformer blocks, as
 * llama-imatrix's collect_imatrix does for GGML_OP_MUL_MAT: only tensors named {@code blk.*}
 * (llama.cpp leaves out output.weight unless asked, and the embedding is a lookup), every token of
 * every chunk, one count per activation vector. Sums are kept in double and written as float.
 */
public final class ImatrixCollector implements MatrixInputs {
    private final Map<String, double[]> sums = new LinkedHashMap<>();
    private final Map<String, long[]> counts = new LinkedHashMap<>();

    @Override
    public void observe(String weight, float[] in, int batch, int columns) {
        if (!weight.startsWith("blk.")) {
            return;
        }
        double[] s = sums.computeIfAbsent(weight, k -> new double[columns]);
        if (s.length != columns) {
            throw new IllegalStateException(weight + " had " + s.length + " columns and now " + columns);
        }
        for (int b = 0; b < batch; b++) {
            int base = b * columns;
            for (int j = 0; j < columns; j++) {
                float x = in[base + j];
                s[j] += (double) x * x;
            }
        }
        counts.computeIfAbsent(weight, k -> new long[1])[0] += batch;
    }

    /** What was collected so far, as an imatrix of {@code chunkCount} chunks of {@code chunkSize} tokens. */
    public Imatrix result(int chunkCount, int chunkSize, List<String> datasets) {
        Map<String, Imatrix.Entry> entries = new TreeMap<>();
        sums.forEach((name, s) -> {
            float[] f = new float[s.length];
            for (int j = 0; j < s.length; j++) {
                f[j] = (float) s[j];
            }
            entries.put(name, new Imatrix.Entry(f, new float[] {counts.get(name)[0]}));
        });
        return new Imatrix(new TreeMap<>(entries), chunkCount, chunkSize, datasets);
    }
}
