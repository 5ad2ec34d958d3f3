package io.panllm.runtime.generate;

/** Receives generated tokens as they are sampled (on the generating thread). */
@FunctionalInterface
public interface TokenListener {

    /**
     * A token was sampled. {@code piece} is the text it completes, possibly empty (a token that
     * ends inside a UTF-8 sequence). Not called for stop tokens.
     */
    void onToken(int token, String piece);

    /** Text held back by the decoder at the end of generation; called only when non-empty. */
    default void onTrailingText(String text) {
    }

    TokenListener NONE = (token, piece) -> {
    };
}
