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

    /** A short description for logs and reports, e.g. "llama 1B Q4_0 on cpu (2 threads)". */
    String description();

    @Override
    void close();
}
