package io.panllm.runtime.cpu;

/**
 * Sees the activations entering every matrix product of the CPU forward pass (what llama.cpp's
 * imatrix tool collects through its graph callback). Given to {@link CpuBackend}; a backend
 * without one pays a single null check per matrix product.
 */
@FunctionalInterface
public interface MatrixInputs {
    /**
     * Called on the forward pass's thread before {@code weight} multiplies the {@code batch}
     * vectors {@code in[b * columns, (b + 1) * columns)}; {@code in} is only valid during the call.
     *
     * @param weight the weight tensor's name, e.g. {@code blk.0.attn_q.weight}
     */
    void observe(String weight, float[] in, int batch, int columns);
}
