package io.panllm.runtime.model;

/**
 * Which elements of a head RoPE rotates together (llama.cpp's rope types).
 */
public enum RopeLayout {
    /**
     * llama.cpp LLAMA_ROPE_TYPE_NORM: adjacent pairs (2i, 2i+1). Used for llama-architecture GGUFs,
     * whose converter permutes the Q/K rows of the Hugging Face checkpoint so this is right.
     */
    ADJACENT_PAIRS,
    /** llama.cpp LLAMA_ROPE_TYPE_NEOX: pairs (i, i + d/2), the Hugging Face layout (qwen2). */
    HALVES
}
