package io.panllm.runtime.generate;

import io.panllm.runtime.tokenizer.Tokenizer;
import java.util.Arrays;

/**
 * Streams the text of generated tokens through {@link Tokenizer#decode(int[])}, so the pieces add
 * up to exactly what decoding the whole sequence gives. Each step decodes the context and the
 * tokens so far and hands out what is new, holding back trailing U+FFFD characters: they are
 * usually the first bytes of a character whose remaining bytes are in the next token (a byte that
 * is really invalid comes out with the next piece or at {@link #finish()}).
 *
 * <p>The context (the last prompt tokens) is decoded in front and not handed out: it decides
 * whether the first generated SentencePiece word keeps its leading space ("▁there" after "time"
 * is " there", at the start of a sequence it is "there").
 *
 * <p>Each step decodes everything generated so far: O(n^2) in the reply length, a few
 * milliseconds in total for replies of thousands of tokens.
 */
public final class TokenizerTextStream implements TextStream {

    /** Prompt tokens decoded in front of the generated ones. */
    private static final int CONTEXT_TOKENS = 4;
    private static final char REPLACEMENT = '\uFFFD';

    private final Tokenizer tokenizer;
    private int[] sequence;
    private int length;
    /** Characters of the decoded sequence already handed out (or belonging to the context). */
    private int emitted;

    public TokenizerTextStream(Tokenizer tokenizer, int[] context) {
        this.tokenizer = tokenizer;
        this.sequence = Arrays.copyOf(context, Math.max(16, context.length * 2));
        this.length = context.length;
        this.emitted = withoutTrailingReplacements(tokenizer.decode(context)).length();
    }

    /** Streams that take the last few prompt tokens as context. */
    public static TextStream.Factory factory(Tokenizer tokenizer) {
        return prompt -> new TokenizerTextStream(tokenizer,
                Arrays.copyOfRange(prompt, Math.max(0, prompt.length - CONTEXT_TOKENS), prompt.length));
    }

    @Override
    public String next(int token) {
        if (length == sequence.length) {
            sequence = Arrays.copyOf(sequence, length * 2);
        }
        sequence[length++] = token;
        String complete = withoutTrailingReplacements(decoded());
        if (complete.length() <= emitted) {
            return "";
        }
        String piece = complete.substring(emitted);
        emitted = complete.length();
        return piece;
    }

    @Override
    public String finish() {
        String text = decoded();
        String rest = text.length() > emitted ? text.substring(emitted) : "";
        emitted = text.length();
        return rest;
    }

    private String decoded() {
        return tokenizer.decode(Arrays.copyOf(sequence, length));
    }

    private static String withoutTrailingReplacements(String text) {
        int end = text.length();
        while (end > 0 && text.charAt(end - 1) == REPLACEMENT) {
            end--;
        }
        return text.substring(0, end);
    }
}
