package io.panllm.runtime.cpu;

import io.panllm.tensor.BlockCodec;
import io.panllm.tensor.GgmlType;
import io.panllm.tensor.UnsupportedTypeException;
import java.lang.foreign.MemorySegment;
import java.util.EnumSet;
import java.util.Set;

/**
 * The simple, obviously-correct path: gguf-io's codec decodes the blocks (the one place that
 * knows every layout), then a plain loop dots the floats. The vector kernels are tested against
 * it, and it computes for any type that has no vector kernel on this machine.
 */
final class ScalarKernels {
    private ScalarKernels() {
    }

    /** Types the CPU backend computes with. */
    static final Set<GgmlType> SUPPORTED = EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0,
            GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
            GgmlType.IQ4_NL, GgmlType.NF4, GgmlType.FP4, GgmlType.I8);

    static RowKernel of(GgmlType type) {
        if (!SUPPORTED.contains(type)) {
            throw new UnsupportedTypeException("the CPU backend cannot compute with " + type + " tensors (it supports "
                    + SUPPORTED + ")");
        }
        return new CodecKernel(type.codec());
    }

    /** Per-thread buffer for a decoded row: the fallback path computes without allocating per row. */
    private static final ThreadLocal<float[]> DECODED_ROW = ThreadLocal.withInitial(() -> new float[0]);

    private record CodecKernel(BlockCodec codec) implements RowKernel {
        @Override
        public GgmlType type() {
            return codec.type();
        }

        @Override
        public void dequantize(MemorySegment row, float[] out, int outOffset, int n) {
            codec.dequantize(row, out, outOffset, n);
        }

        @Override
        public float dot(MemorySegment row, float[] x, int xOffset, int n) {
            float[] weights = DECODED_ROW.get();
            if (weights.length < n) {
                weights = new float[n];
                DECODED_ROW.set(weights);
            }
            codec.dequantize(row, weights, 0, n);
            float sum = 0f;
            for (int i = 0; i < n; i++) {
                sum += weights[i] * x[xOffset + i];
            }
            return sum;
        }
    }
}
