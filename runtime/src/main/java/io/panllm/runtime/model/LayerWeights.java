package io.panllm.runtime.model;

/**
 * The tensors of one transformer block (llama.cpp names blk.N.*). Matrices have
 * {@code shape = [input width, output width]} in ggml order: one stored row per output element.
 * The biases are null except in architectures that have them (qwen2).
 */
public record LayerWeights(
        TensorView attentionNorm,
        TensorView query,
        TensorView key,
        TensorView value,
        TensorView queryBias,
        TensorView keyBias,
        TensorView valueBias,
        TensorView attentionOutput,
        TensorView ffnNorm,
        TensorView ffnGate,
        TensorView ffnUp,
        TensorView ffnDown) {
}
