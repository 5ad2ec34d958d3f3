package io.panllm.runtime.tokenizer;

import java.util.Set;

/**
 * Text to token ids and back, for one model's vocabulary. Implementations are immutable and
 * thread-safe. Build one with {@link Tokenizers}.
 */
public interface Tokenizer {

    /**
     * Encodes text.
     *
     * @param addSpecial   add BOS and EOS where the vocabulary asks for them ({@link Vocabulary#addBos()},
     *                     {@link Vocabulary#addEos()}), as llama.cpp's add_special: a GPT-2 vocabulary
     *                     gets no BOS, a Llama one does; pass true at the start of a sequence
     * @param parseSpecial recognise control-token texts such as "&lt;|eot_id|&gt;" in the text (for
     *                     rendered chat templates); when false they are spelled out as ordinary text
     */
    int[] encode(String text, boolean addSpecial, boolean parseSpecial);

    /**
     * Encodes UTF-8 bytes, rejecting ill-formed input.
     *
     * @throws InvalidUtf8Exception naming the offset of the first bad byte
     */
    int[] encode(byte[] utf8, boolean addSpecial, boolean parseSpecial);

    /**
     * The text of the ids, the inverse of {@link #encode(String, boolean, boolean)}: control tokens
     * (BOS, EOS, ...) give nothing, and for SentencePiece the space that encoding put in front of
     * the text (and after each special token) is taken off again. Bytes that do not form UTF-8
     * become U+FFFD.
     */
    String decode(int[] ids);

    /** Like {@link #decode(int[])}, but control tokens give their text when {@code renderSpecial}. */
    String decode(int[] ids, boolean renderSpecial);

    /** The bytes one token stands for (a control token: the UTF-8 of its text). */
    byte[] tokenBytes(int id);

    int vocabSize();

    /** BOS id, or {@link SpecialTokens#NONE}. */
    int bos();

    /** EOS id, or {@link SpecialTokens#NONE}. */
    int eos();

    /** Every token that ends generation: EOS, end of turn ("&lt;|eot_id|&gt;", "&lt;|im_end|&gt;", ...). */
    Set<Integer> stopTokens();

    /** Whether the id is a control, unknown or user-defined token rather than ordinary text. */
    boolean isSpecial(int id);

    TokenType type(int id);

    /** The token as the vocabulary spells it, e.g. "▁Hello" or "ĠHello". */
    String piece(int id);

    /** The id of a vocabulary string, or {@link SpecialTokens#NONE}. */
    int id(String piece);

    Vocabulary vocabulary();
}
