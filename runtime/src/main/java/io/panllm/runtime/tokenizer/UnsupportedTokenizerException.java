package io.panllm.runtime.tokenizer;

/** The tokenizer model or pre-tokenizer named by a file is one this project does not implement. */
public class UnsupportedTokenizerException extends TokenizerException {
    public UnsupportedTokenizerException(String message) {
        super(message);
    }
}
