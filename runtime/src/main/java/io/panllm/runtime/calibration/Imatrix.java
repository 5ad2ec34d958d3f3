package io.panllm.runtime.calibration;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * An importance matrix as llama.cpp's llama-imatrix keeps it: per weight tensor, the sum over the
 * calibration tokens of the squared activations entering each of its columns ({@code in_sum2}), and
 * how many activation vectors were summed ({@code counts}, one per expert matrix: one for a dense
 * tensor). The importance of column j, what the quantizers weight it with, is {@code in_sum2[j] / count}.
 *
 * @param entries    per tensor name (e.g. blk.0.attn_q.weight), sorted by name as llama.cpp writes them
 * @param chunkCount chunks of calibration text seen
 * @param chunkSize  tokens per chunk
 * @param datasets   the calibration files' names
 */
public record Imatrix(SortedMap<String, Entry> entries, int chunkCount, int chunkSize, List<String> datasets) {

    public Imatrix {
        entries = Collections.unmodifiableSortedMap(new TreeMap<>(entries));
        datasets = List.copyOf(datasets);
    }

    /**
     * One tensor's sums: {@code sums.length == columns * counts.length}, matrix m's sums at
     * {@code [m * columns, (m + 1) * columns)}.
     */
    public record Entry(float[] sums, float[] counts) {
        public Entry {
            Objects.requireNonNull(sums, "sums");
            Objects.requireNonNull(counts, "counts");
            if (counts.length == 0 || sums.length % counts.length != 0) {
                throw new IllegalArgumentException(sums.length + " sums do not split into " + counts.length + " matrices");
            }
        }

        public int columns() {
            return sums.length / counts.length;
        }

        /**
         * The per-column importance as llama-quantize computes it from a GGUF imatrix: sum / count,
         * and 1 for a matrix that saw no input (an expert never routed to).
         */
        public float[] importance() {
            int columns = columns();
            float[] importance = new float[sums.length];
            for (int m = 0; m < counts.length; m++) {
                float count = counts[m];
                for (int j = 0; j < columns; j++) {
                    importance[m * columns + j] = count > 0 ? sums[m * columns + j] / count : 1f;
                }
            }
            return importance;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Entry e && Arrays.equals(sums, e.sums) && Arrays.equals(counts, e.counts);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(sums) + Arrays.hashCode(counts);
        }

        @Override
        public String toString() {
            return "Entry[" + columns() + " columns x " + counts.length + " matrices, counts " + Arrays.toString(counts) + "]";
        }
    }

    /** The importance of {@code tensor}'s columns, or null when the imatrix has no entry for it. */
    public float[] importance(String tensor) {
        Entry e = entries.get(tensor);
        return e == null ? null : e.importance();
    }
}
