package io.panllm.runtime.convert;

/** A model that cannot be converted as asked: the message says why and what to do. */
public class ConvertException extends RuntimeException {
    public ConvertException(String message) {
        super(message);
    }

    public ConvertException(String message, Throwable cause) {
        super(message, cause);
    }
}
