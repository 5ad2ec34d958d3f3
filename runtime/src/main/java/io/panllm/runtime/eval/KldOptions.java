package io.panllm.runtime.eval;

/**
 * How to replay a KL-divergence base file. The context size and the tokens come from the file.
 *
 * @param maxChunks the most chunks to compare; negative means all those in the file
 * @param addBos    whether each chunk starts with BOS (the tokenizer's add-BOS flag, as for the base run)
 * @param bosToken  the beginning-of-sequence token
 */
public record KldOptions(int maxChunks, boolean addBos, int bosToken) {

    public KldOptions {
        if (maxChunks == 0) {
            throw new IllegalArgumentException("the number of chunks must be positive (or negative for all), got 0");
        }
    }

    PerplexityOptions chunking(int contextSize) {
        return new PerplexityOptions(contextSize, maxChunks, addBos, bosToken);
    }
}
