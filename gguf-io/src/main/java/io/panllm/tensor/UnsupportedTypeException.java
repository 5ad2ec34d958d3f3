package io.panllm.tensor;

/** A tensor type that panllm knows by id but cannot decode, encode or compute with. */
public class UnsupportedTypeException extends RuntimeException {
    public UnsupportedTypeException(String message) {
        super(message);
    }
}
