package io.panllm.runtime.convert;

import io.panllm.tensor.GgmlType;
import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * One tensor of a model being converted, already under its llama.cpp name and in ggml shape order
 * (shape[0] = row length), with whatever permutation GGUF needs already applied by its reader.
 *
 * @param sourceType the type the source stores it in (decides whether it can be copied as is)
 * @param raw        the source bytes when they are already in GGUF layout of {@code sourceType}
 *                   (copied through without re-quantizing), else null
 * @param rows       reads float32 rows (always available)
 */
public record SourceTensor(String name, long[] shape, GgmlType sourceType, MemorySegment raw, RowReader rows) {

    /** Reads rows of a tensor as float32. */
    @FunctionalInterface
    public interface RowReader {
        /** Fills {@code dst[0 .. count*rowLength)} with rows {@code first .. first+count)}. */
        void read(long first, int count, float[] dst) throws IOException;
    }

    public long rowLength() {
        return shape[0];
    }

    public long rowCount() {
        long n = 1;
        for (int i = 1; i < shape.length; i++) {
            n *= shape[i];
        }
        return n;
    }

    public long elementCount() {
        return rowLength() * rowCount();
    }

    /** True for vectors (norm weights, biases), which GGUF keeps in F32. */
    public boolean isVector() {
        return shape.length == 1;
    }
}
