package io.panllm.runtime;

/**
 * What generation, chat and evaluation need from a loaded model, whatever backend computes it.
 * Implementations own the weights; sessions own the KV cache.
 */
public interface LanguageModel extends AutoCloseable {

    /** Number of logits per position. */
    int vocabSize();

    /** The longest context the model was trained for (a session may ask for less or more). */
    int trainedContextLength();

    /** A fresh sequence with room for {@code contextSize} positions in its KV cache. */
    Session newSession(int contextSize);

    /**
     * One decode step for several sessions of this model at once (continuous batching, {@code
     * bench --parallel}): {@code sessions.get(i)} takes {@code tokens[i]} at its own position, which
     * then advances by one, and the logits after it go to {@code sink} with index i (the array may
     * be reused after the sink returns). Each sequence gets the same logits as a
     * {@link Session#forward(int[])} of its token alone would give, within the backend's rounding.
     * The default decodes the sessions one after another; models that batch override it.
     *
     * @throws ContextOverflowException if a session is full
     */
    default void decodeBatch(java.util.List<? extends Session> sessions, int[] tokens, Session.LogitsSink sink) {
        if (tokens.length != sessions.size()) {
            throw new IllegalArgumentException(sessions.size() + " sessions but " + tokens.length + " tokens");
        }
        for (int i = 0; i < tokens.length; i++) {
            sink.accept(i, sessions.get(i).forward(new int[] {tokens[i]}));
        }
    }

    /**
     * {@link #decodeBatch} for greedy decoding: returns the most likely next token of each
     * session (a GPU backend finds them on the device and copies back one id per sequence).
     */
    default int[] decodeBatchGreedy(java.util.List<? extends Session> sessions, int[] tokens) {
        int[] next = new int[tokens.length];
        decodeBatch(sessions, tokens, (i, logits) -> next[i] = Argmax.of(logits));
        return next;
    }

    /** A short description for logs and reports, e.g. "llama 1B Q4_0 on cpu (2 threads)". */
    String description();

    @Override
    void close();
}
