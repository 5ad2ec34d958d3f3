package io.panllm.runtime;

/**
 * One sequence being processed: its position and its KV cache. Not thread-safe.
 */
public interface Session extends AutoCloseable {

    /** Number of tokens in the cache (the position the next token will take). */
    int position();

    /** Maximum number of positions. */
    int capacity();

    /**
     * Processes {@code tokens} at the current position (as one batch where the backend can) and
     * returns the logits after the last one (a fresh array of vocabSize floats).
     *
     * @throws ContextOverflowException if the tokens do not fit in the remaining capacity
     */
    float[] forward(int[] tokens);

    /**
     * Processes {@code tokens} and hands the logits after every one of them to {@code sink}
     * (index i: the logits predicting the token after tokens[i]). The array passed to the sink may
     * be reused after it returns.
     */
    void forward(int[] tokens, LogitsSink sink);

    /**
     * Processes {@code tokens} like {@link #forward(int[])} and returns the most likely next token
     * (greedy decoding). A GPU backend finds it on the device and copies back one id instead of
     * the whole vocabulary's logits.
     */
    default int forwardGreedy(int[] tokens) {
        return Argmax.of(forward(tokens));
    }

    /** Forgets every position from {@code position} on (0 clears the cache). */
    void rewind(int position);

    @Override
    void close();

    /** Receives the logits of one position. */
    @FunctionalInterface
    interface LogitsSink {
        void accept(int index, float[] logits);
    }
}
