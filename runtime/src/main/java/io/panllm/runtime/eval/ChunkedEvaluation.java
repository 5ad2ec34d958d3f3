package io.panllm.runtime.eval;

import io.panllm.runtime.LanguageModel;
import io.panllm.runtime.Session;

/**
 * llama.cpp's chunking, shared by perplexity and KL divergence: chunk i is
 * {@code tokens[i*n_ctx, (i+1)*n_ctx)} with its first token replaced by BOS when the vocabulary
 * adds one, evaluated from an empty KV cache, and only its second half is scored: the logits at
 * position j (first <= j < n_ctx-1, first = n_ctx/2) predict token j+1.
 */
final class ChunkedEvaluation {

    /** Receives the logits of one scored position; {@code logits} is only valid during the call. */
    @FunctionalInterface
    interface ScoredPosition {
        /**
         * @param chunk  0-based chunk index
         * @param row    0-based index among the chunk's scored positions
         * @param logits the logits at that position
         * @param target the token that actually follows
         */
        void accept(int chunk, int row, float[] logits, int target);
    }

    @FunctionalInterface
    interface ChunkDone {
        void afterChunk(int chunk);
    }

    private ChunkedEvaluation() {
    }

    /** Chunks available in {@code tokenCount} tokens, capped by the options' limit. */
    static int chunkCount(int tokenCount, PerplexityOptions options) {
        int available = tokenCount / options.contextSize();
        return options.maxChunks() < 0 ? available : Math.min(options.maxChunks(), available);
    }

    /** Evaluates chunks 0 .. chunks-1 of {@code tokens}. */
    static void run(LanguageModel model, int[] tokens, int chunks, PerplexityOptions options,
                    ScoredPosition scored, ChunkDone done) {
        int contextSize = options.contextSize();
        int first = options.firstScored();
        int vocabSize = model.vocabSize();
        try (Session session = model.newSession(contextSize)) {
            for (int chunk = 0; chunk < chunks; chunk++) {
                int start = chunk * contextSize;
                int[] input = new int[contextSize];
                System.arraycopy(tokens, start, input, 0, contextSize);
                if (options.addBos()) {
                    input[0] = options.bosToken();
                }
                session.rewind(0);
                int chunkIndex = chunk;
                session.forward(input, (index, logits) -> {
                    if (index < first || index >= contextSize - 1) {
                        return;
                    }
                    if (logits.length != vocabSize) {
                        throw new IllegalStateException("the model returned " + logits.length
                                + " logits, its vocabulary has " + vocabSize);
                    }
                    scored.accept(chunkIndex, index - first, logits, tokens[start + index + 1]);
                });
                done.afterChunk(chunk);
            }
        }
    }
}
