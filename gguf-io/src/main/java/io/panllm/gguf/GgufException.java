package io.panllm.gguf;

/** A GGUF file that cannot be read or written: the message names the file, the offset and the problem. */
public class GgufException extends RuntimeException {
    public GgufException(String message) {
        super(message);
    }

    public GgufException(String message, Throwable cause) {
        super(message, cause);
    }
}
