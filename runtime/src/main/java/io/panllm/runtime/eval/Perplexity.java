package io.panllm.runtime.eval;

import io.panllm.runtime.LanguageModel;

/**
 * Perplexity as llama.cpp's {@code llama-perplexity} computes it, so the numbers can be compared
 * with its output: the tokens are cut into chunks of n_ctx, each is evaluated from an empty KV
 * cache with BOS as its first token (when the vocabulary adds BOS), and the second half of each
 * chunk is scored. PPL = exp(mean(-log p(token))).
 *
 * <p>The caller tokenizes the text the way llama.cpp does: the whole text at once, with BOS in
 * front when the vocabulary adds one.
 */
public final class Perplexity {

    private Perplexity() {
    }

    /**
     * @throws NotEnoughTokensException if {@code tokens} holds fewer than 2 * n_ctx tokens
     */
    public static PerplexityResult run(LanguageModel model, int[] tokens, PerplexityOptions options,
                                       ProgressListener progress) {
        requireEnoughTokens(tokens, options);
        int chunks = ChunkedEvaluation.chunkCount(tokens.length, options);
        NllAccumulator nll = new NllAccumulator();
        double[] running = new double[chunks];
        long start = System.nanoTime();
        ChunkedEvaluation.run(model, tokens, chunks, options,
                (chunk, row, logits, target) -> nll.add(LogSoftmax.negativeLogLikelihood(logits, target)),
                chunk -> {
                    running[chunk] = nll.perplexity();
                    progress.onChunk(chunk + 1, chunks, running[chunk]);
                });
        return new PerplexityResult(nll.perplexity(), nll.standardError(), chunks, options.contextSize(),
                nll.count(), running, System.nanoTime() - start);
    }

    static void requireEnoughTokens(int[] tokens, PerplexityOptions options) {
        if (tokens.length < 2L * options.contextSize()) {
            throw new NotEnoughTokensException(tokens.length, options.contextSize());
        }
    }
}
