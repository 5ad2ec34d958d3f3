package io.panllm.runtime;

/** The tokens do not fit in what is left of a session's context. */
public class ContextOverflowException extends RuntimeException {
    public ContextOverflowException(int position, int adding, int capacity) {
        super("context full: " + position + " tokens in the cache + " + adding + " new exceed the context size of "
                + capacity + " (use a larger -c, or reset)");
    }
}
