package io.panllm.llama2c;

/** A llama2.c checkpoint that cannot be read: the message names the file and the problem. */
public class Llama2cException extends RuntimeException {
    public Llama2cException(String message) {
        super(message);
    }
}
