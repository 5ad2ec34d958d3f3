package io.panllm.hf;

/** A Hugging Face checkpoint (config.json, bitsandbytes tensors) that cannot be read: the message names the file and the problem. */
public class HfCheckpointException extends RuntimeException {
    public HfCheckpointException(String message) {
        super(message);
    }

    public HfCheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
