package io.panllm.cli.serve;

import io.panllm.runtime.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;

/** The text OpenAI's logprobs show for one token: its bytes as UTF-8 (a lone piece of a character shows as U+FFFD). */
final class TokenTexts {
    private final Tokenizer tokenizer;

    TokenTexts(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    String text(int token) {
        return new String(tokenizer.tokenBytes(token), StandardCharsets.UTF_8);
    }

    byte[] bytes(int token) {
        return tokenizer.tokenBytes(token);
    }
}
