package io.panllm.hf;

/** A Hugging Face config.json that cannot be used: the message names the file and the key. */
public class HfConfigException extends RuntimeException {
    public HfConfigException(String message) {
        super(message);
    }

    public HfConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
