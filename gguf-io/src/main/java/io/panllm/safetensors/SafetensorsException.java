package io.panllm.safetensors;

/**
 * A safetensors file or checkpoint that cannot be read or written. The message names the file, the
 * byte offset or tensor where that applies, and what was wrong.
 */
public class SafetensorsException extends RuntimeException {
    public SafetensorsException(String message) {
        super(message);
    }

    public SafetensorsException(String message, Throwable cause) {
        super(message, cause);
    }
}
