package io.panllm.runtime.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns generated tokens into text as they come. A character whose UTF-8 bytes are spread over
 * several tokens (emoji, CJK in byte-level BPE or SentencePiece byte fallback) is held back
 * until its last byte arrives; bytes that can never form a character become U+FFFD at once.
 *
 * <p>Decoding follows {@link Tokenizer#decode(int[])}, except that the first token keeps its
 * leading space: the decoder assumes its tokens continue text that came before (a prompt). After
 * a control token fed to it (such as BOS), a SentencePiece leading space is dropped as in decode.
 * Not thread-safe: one per generation stream.
 */
public final class StreamingDecoder {
    private final Tokenizer tokenizer;
    private final boolean renderSpecial;
    private final boolean stripSpaceAfterSpecial;
    private byte[] pending = new byte[16];
    private int pendingLength;
    private boolean afterSpecial;

    public StreamingDecoder(Tokenizer tokenizer) {
        this(tokenizer, false);
    }

    /** @param renderSpecial show control tokens as their text (e.g. "&lt;|eot_id|&gt;") */
    public StreamingDecoder(Tokenizer tokenizer, boolean renderSpecial) {
        this.tokenizer = tokenizer;
        this.renderSpecial = renderSpecial;
        this.stripSpaceAfterSpecial = tokenizer.vocabulary().addSpacePrefix();
    }

    /** Takes one token; returns the text completed by it (possibly empty). */
    public String accept(int id) {
        byte[] bytes = tokenizer.tokenBytes(id);
        TokenType type = tokenizer.type(id);
        if (type == TokenType.CONTROL || type == TokenType.UNKNOWN) {
            afterSpecial = true;
            return renderSpecial ? emit(bytes, 0) : "";
        }
        int skip = stripSpaceAfterSpecial && afterSpecial && bytes.length > 0 && bytes[0] == ' ' ? 1 : 0;
        afterSpecial = type == TokenType.USER_DEFINED;
        return emit(bytes, skip);
    }

    /** Ends the stream: returns what is still held back, an incomplete character as U+FFFD. */
    public String flush() {
        String rest = pendingLength == 0 ? "" : "\uFFFD";
        pendingLength = 0;
        return rest;
    }

    /** Forgets held-back bytes and starts as after a control token (a new sequence). */
    public void reset() {
        pendingLength = 0;
        afterSpecial = true;
    }

    private String emit(byte[] bytes, int from) {
        int count = bytes.length - from;
        if (pendingLength + count > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + count));
        }
        System.arraycopy(bytes, from, pending, pendingLength, count);
        pendingLength += count;

        StringBuilder text = new StringBuilder();
        int pos = 0;
        int validStart = 0;
        while (pos < pendingLength) {
            int n = Utf8.scan(pending, pos, pendingLength);
            if (n == Utf8.INCOMPLETE) {
                break;
            }
            if (n < 0) {
                text.append(new String(pending, validStart, pos - validStart, StandardCharsets.UTF_8)).append('\uFFFD');
                pos -= n;
                validStart = pos;
            } else {
                pos += n;
            }
        }
        text.append(new String(pending, validStart, pos - validStart, StandardCharsets.UTF_8));
        System.arraycopy(pending, pos, pending, 0, pendingLength - pos);
        pendingLength -= pos;
        return text.toString();
    }
}
