package io.panllm.runtime.eval;

/**
 * How the text is cut into chunks for perplexity (and KL-divergence) evaluation.
 *
 * @param contextSize tokens per chunk (llama.cpp's -c); the second half of each chunk is scored
 * @param maxChunks   the most chunks to evaluate (llama.cpp's --chunks); negative means all
 * @param addBos      whether the first token of every chunk is replaced by {@code bosToken};
 *                    pass the tokenizer's add-BOS flag, as llama.cpp uses the vocabulary's
 * @param bosToken    the beginning-of-sequence token (ignored when {@code addBos} is false)
 */
public record PerplexityOptions(int contextSize, int maxChunks, boolean addBos, int bosToken) {

    public PerplexityOptions {
        if (contextSize < 3) {
            // first = n_ctx/2 and n_ctx - 1 - first tokens are scored: at least one needs n_ctx >= 3.
            throw new IllegalArgumentException("context size must be at least 3 to score any token, got "
                    + contextSize);
        }
        if (maxChunks == 0) {
            throw new IllegalArgumentException("the number of chunks must be positive (or negative for all), got 0");
        }
    }

    /** Index within a chunk of the first position whose logits are scored. */
    int firstScored() {
        return contextSize / 2;
    }

    /** Scored tokens per chunk: positions first .. contextSize-2 predict tokens first+1 .. contextSize-1. */
    int scoredPerChunk() {
        return contextSize - 1 - firstScored();
    }
}
