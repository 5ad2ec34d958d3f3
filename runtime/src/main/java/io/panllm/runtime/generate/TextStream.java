package io.panllm.runtime.generate;

/**
 * Turns generated tokens into text as they arrive. A token may end in the middle of a UTF-8
 * sequence, so an implementation holds such bytes back until the sequence is complete.
 */
public interface TextStream {

    /** The text that {@code token} completes; empty when it only added held-back bytes. */
    String next(int token);

    /** Whatever is still held back at the end of generation (normally empty). */
    String finish();
}
