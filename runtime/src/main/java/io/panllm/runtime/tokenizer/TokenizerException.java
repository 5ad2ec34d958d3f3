package io.panllm.runtime.tokenizer;

/** A tokenizer that cannot be loaded or an input it cannot encode; the message says what and where. */
public class TokenizerException extends RuntimeException {
    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
