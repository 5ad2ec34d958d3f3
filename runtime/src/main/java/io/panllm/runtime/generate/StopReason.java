package io.panllm.runtime.generate;

/** Why generation ended. */
public enum StopReason {
    /** A stop token was sampled (it is the last of the result's tokens). */
    STOP_TOKEN,
    /** The requested number of tokens was generated. */
    MAX_TOKENS,
    /** The session's context has no room for another token. */
    CONTEXT_FULL,
    /** {@link Generator#cancel()} was called, the cancellation flag turned true, or the thread was interrupted. */
    CANCELLED
}
