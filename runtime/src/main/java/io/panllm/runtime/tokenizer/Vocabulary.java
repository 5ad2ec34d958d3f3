package io.panllm.runtime.tokenizer;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything a tokenizer is built from, whatever file it came from: the token strings as the
 * model stores them (SentencePiece pieces with "▁" for space, or GPT-2 byte-level strings), their
 * scores and types, the BPE merges, the special ids and the encoding flags.
 *
 * @param model          which algorithm the vocabulary is meant for
 * @param preTokenizer   llama.cpp's name of the pre-tokenizer ({@code tokenizer.ggml.pre}), e.g.
 *                       "llama-bpe" or "gpt-2"; "default" for SentencePiece
 * @param tokens         the piece of every id
 * @param scores         SentencePiece merge scores (one per token), or null for BPE
 * @param types          the type of every id
 * @param merges         BPE merges "left right" in rank order (empty for SentencePiece)
 * @param special        ids with a role
 * @param addBos         whether encoding prepends BOS by default
 * @param addEos         whether encoding appends EOS by default
 * @param addSpacePrefix SentencePiece: prefix the text with a space (at the start and after special tokens)
 * @param chatTemplate   the Jinja chat template shipped with the model, or null
 * @param strip          per token, {@link #LSTRIP} and {@link #RSTRIP}: where special-token parsing
 *                       drops the white space before or after the token (llama.cpp's token
 *                       attributes); null for none
 */
public record Vocabulary(Model model, String preTokenizer, List<String> tokens, float[] scores, TokenType[] types,
                         List<String> merges, SpecialTokens special, boolean addBos, boolean addEos,
                         boolean addSpacePrefix, String chatTemplate, byte[] strip) {
    /** Special-token parsing drops the white space before this token. */
    public static final byte LSTRIP = 1;
    /** Special-token parsing drops the white space after this token. */
    public static final byte RSTRIP = 2;

    /** A vocabulary whose tokens strip no white space. */
    public Vocabulary(Model model, String preTokenizer, List<String> tokens, float[] scores, TokenType[] types,
                      List<String> merges, SpecialTokens special, boolean addBos, boolean addEos,
                      boolean addSpacePrefix, String chatTemplate) {
        this(model, preTokenizer, tokens, scores, types, merges, special, addBos, addEos, addSpacePrefix, chatTemplate, null);
    }

    /** The tokenization algorithm, with the name GGUF gives it in {@code tokenizer.ggml.model}. */
    public enum Model {
        /** llama.cpp's SentencePiece (llm_tokenizer_spm): bigram merges by score, byte fallback. */
        SENTENCE_PIECE("llama"),
        /** Byte-level BPE (GPT-2 style): regex pre-tokenizer, merges by rank. */
        BYTE_PAIR("gpt2"),
        /**
         * A SentencePiece vocabulary from a llama2.c tokenizer.bin, encoded exactly as llama2.c's
         * run.c does: like SENTENCE_PIECE, except that a character missing from the vocabulary
         * goes to byte tokens at once and never takes part in a merge.
         */
        LLAMA2C("llama");

        private final String ggufName;

        Model(String ggufName) {
            this.ggufName = ggufName;
        }

        public String ggufName() {
            return ggufName;
        }
    }

    public Vocabulary {
        tokens = List.copyOf(tokens);
        merges = List.copyOf(merges);
        int n = tokens.size();
        if (n == 0) {
            throw new TokenizerException("empty vocabulary");
        }
        if (types.length != n) {
            throw new TokenizerException("vocabulary has " + n + " tokens but " + types.length + " token types");
        }
        if (scores != null && scores.length != n) {
            throw new TokenizerException("vocabulary has " + n + " tokens but " + scores.length + " scores");
        }
        if (model != Model.BYTE_PAIR && scores == null) {
            throw new TokenizerException("a SentencePiece vocabulary needs token scores");
        }
        if (strip != null && strip.length != n) {
            throw new TokenizerException("vocabulary has " + n + " tokens but " + strip.length + " strip attributes");
        }
        if (model == Model.BYTE_PAIR && merges.isEmpty()) {
            throw new TokenizerException("a byte-level BPE vocabulary needs merges");
        }
        checkId("bos", special.bos(), n);
        checkId("eos", special.eos(), n);
        checkId("eot", special.eot(), n);
        checkId("unknown", special.unknown(), n);
        checkId("padding", special.padding(), n);
    }

    private static void checkId(String role, int id, int vocabSize) {
        if (id != SpecialTokens.NONE && (id < 0 || id >= vocabSize)) {
            throw new TokenizerException(role + " token id " + id + " is outside the vocabulary of " + vocabSize + " tokens");
        }
    }

    public int size() {
        return tokens.size();
    }

    public TokenType type(int id) {
        return types[id];
    }

    /** Whether special-token parsing drops the white space before ({@link #LSTRIP}) or after ({@link #RSTRIP}) this token. */
    public boolean strips(int id, byte side) {
        return strip != null && (strip[id] & side) != 0;
    }

    /** This vocabulary with other token types and strip attributes (the per-model rules of llama.cpp). */
    public Vocabulary withTypes(TokenType[] newTypes, byte[] newStrip) {
        return new Vocabulary(model, preTokenizer, tokens, scores, newTypes, merges, special, addBos, addEos, addSpacePrefix,
                chatTemplate, newStrip);
    }

    /** Id of each token string; where a string repeats, the last id wins (as in llama.cpp). */
    public Map<String, Integer> idsByToken() {
        Map<String, Integer> ids = HashMap.newHashMap(tokens.size());
        for (int i = 0; i < tokens.size(); i++) {
            ids.put(tokens.get(i), i);
        }
        return ids;
    }

    /** Id of the control or user-defined token with exactly this text, or NONE. */
    public int findSpecial(String text) {
        for (int i = 0; i < tokens.size(); i++) {
            if ((types[i] == TokenType.CONTROL || types[i] == TokenType.USER_DEFINED) && tokens.get(i).equals(text)) {
                return i;
            }
        }
        return SpecialTokens.NONE;
    }
}
