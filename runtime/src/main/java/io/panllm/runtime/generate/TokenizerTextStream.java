package io.panllm.runtime.generate;

import io.panllm.runtime.tokenizer.Tokenizer;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Decodes generated tokens to text incrementally: a token's bytes may end inside a UTF-8
 * sequence (byte-fallback and byte-level BPE tokens do), so incomplete trailing bytes are held
 * back until the next token completes them. Bytes that can never form a character become U+FFFD.
 * Control tokens (BOS, end of turn) produce no text.
 */
public final class TokenizerTextStream implements TextStream {
    private final Tokenizer tokenizer;
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
    private ByteBuffer pending = ByteBuffer.allocate(64);

    public TokenizerTextStream(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    @Override
    public String next(int token) {
        if (tokenizer.isSpecial(token)) {
            return "";
        }
        byte[] bytes = tokenizer.tokenBytes(token);
        if (pending.remaining() < bytes.length) {
            ByteBuffer bigger = ByteBuffer.allocate(pending.position() + bytes.length + 64);
            pending.flip();
            bigger.put(pending);
            pending = bigger;
        }
        pending.put(bytes);
        return drain(false);
    }

    @Override
    public String finish() {
        String rest = drain(true);
        decoder.reset();
        return rest;
    }

    private String drain(boolean endOfInput) {
        pending.flip();
        CharBuffer out = CharBuffer.allocate(pending.remaining() * 2 + 2);
        decoder.decode(pending, out, endOfInput);
        if (endOfInput) {
            decoder.flush(out);
        }
        pending.compact(); // keeps an incomplete sequence for the next token
        out.flip();
        return out.toString();
    }
}
