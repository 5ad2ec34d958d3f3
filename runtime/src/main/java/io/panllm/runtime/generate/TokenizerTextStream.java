package io.panllm.runtime.generate;

import io.panllm.runtime.tokenizer.StreamingDecoder;
import io.panllm.runtime.tokenizer.Tokenizer;

/**
 * The text of generated tokens through the tokenizer's {@link StreamingDecoder}: UTF-8 sequences
 * split over several tokens are held back until complete, control tokens (BOS, end of turn) give
 * no text, and the first token keeps its leading space (it continues the prompt).
 */
public final class TokenizerTextStream implements TextStream {

    private final StreamingDecoder decoder;

    public TokenizerTextStream(Tokenizer tokenizer) {
        this.decoder = new StreamingDecoder(tokenizer);
    }

    @Override
    public String next(int token) {
        return decoder.accept(token);
    }

    @Override
    public String finish() {
        return decoder.flush();
    }
}
