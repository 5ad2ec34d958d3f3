package io.panllm.runtime.tokenizer;

/**
 * Ids of the tokens with a role: beginning and end of sequence, end of turn (chat), unknown and
 * padding. {@link #NONE} where the vocabulary has no such token.
 */
public record SpecialTokens(int bos, int eos, int eot, int unknown, int padding) {
    public static final int NONE = -1;

    public SpecialTokens withEot(int newEot) {
        return new SpecialTokens(bos, eos, newEot, unknown, padding);
    }
}
