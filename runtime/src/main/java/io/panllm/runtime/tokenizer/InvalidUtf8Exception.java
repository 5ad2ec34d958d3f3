package io.panllm.runtime.tokenizer;

/** Input bytes that are not well-formed UTF-8. */
public class InvalidUtf8Exception extends TokenizerException {
    private final int offset;

    public InvalidUtf8Exception(int offset, String problem) {
        super("invalid UTF-8 at byte offset " + offset + ": " + problem);
        this.offset = offset;
    }

    /** Offset of the first byte of the ill-formed sequence. */
    public int offset() {
        return offset;
    }
}
