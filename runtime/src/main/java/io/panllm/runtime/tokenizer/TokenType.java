package io.panllm.runtime.tokenizer;

/**
 * The kind of a vocabulary entry, with the numeric ids of llama.cpp's {@code llama_token_type}
 * (what GGUF stores in {@code tokenizer.ggml.token_type}).
 */
public enum TokenType {
    UNDEFINED(0),
    NORMAL(1),
    UNKNOWN(2),
    /** Markers such as {@code <s>} or {@code <|eot_id|>}: matched in input text only when asked (parseSpecial). */
    CONTROL(3),
    /** Added tokens that are always matched in input text, special parsing or not. */
    USER_DEFINED(4),
    UNUSED(5),
    /** SentencePiece byte-fallback pieces {@code <0xNN>}. */
    BYTE(6);

    private final int id;

    TokenType(int id) {
        this.id = id;
    }

    public int id() {
        return id;
    }

    /** The type with this GGUF id; unknown ids read as UNDEFINED (llama.cpp treats them as normal text). */
    public static TokenType fromId(int id) {
        for (TokenType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return UNDEFINED;
    }
}
