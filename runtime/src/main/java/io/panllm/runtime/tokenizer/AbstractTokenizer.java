package io.panllm.runtime.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * What every tokenizer shares: special-token parsing, BOS, decoding and stop tokens. Subclasses
 * encode runs of ordinary text and say which bytes each token stands for.
 */
abstract class AbstractTokenizer implements Tokenizer {
    protected final Vocabulary vocab;
    protected final Map<String, Integer> ids;
    private final SpecialTokenMatcher userDefinedMatcher;
    private final SpecialTokenMatcher allSpecialMatcher;
    private final Set<Integer> stopTokens;
    /** What each token stands for in decoded text (control tokens: their text). */
    private final byte[][] tokenBytes;

    AbstractTokenizer(Vocabulary vocab) {
        this.vocab = vocab;
        this.ids = vocab.idsByToken();
        this.userDefinedMatcher = new SpecialTokenMatcher(vocab, false);
        this.allSpecialMatcher = new SpecialTokenMatcher(vocab, true);
        Set<Integer> stops = new LinkedHashSet<>();
        for (int id : new int[] {vocab.special().eos(), vocab.special().eot()}) {
            if (id != SpecialTokens.NONE) {
                stops.add(id);
            }
        }
        for (String text : LlamaVocabRules.END_OF_GENERATION_TEXTS) {
            int id = vocab.findSpecial(text);
            if (id != SpecialTokens.NONE) {
                stops.add(id);
            }
        }
        this.stopTokens = Set.copyOf(stops);
        this.tokenBytes = new byte[vocab.size()][];
        for (int id = 0; id < vocab.size(); id++) {
            TokenType type = vocab.type(id);
            boolean literal = type == TokenType.CONTROL || type == TokenType.UNKNOWN || type == TokenType.USER_DEFINED;
            tokenBytes[id] = literal ? vocab.tokens().get(id).getBytes(StandardCharsets.UTF_8) : textBytes(id);
        }
    }

    /** The bytes an ordinary (normal, byte, unused) token stands for. */
    protected abstract byte[] textBytes(int id);

    /**
     * Appends the tokens of a run of text that holds no special token.
     *
     * @param afterSpecial the run starts the input or follows a special token (SentencePiece
     *                     puts its space prefix there)
     */
    protected abstract void encodeText(String text, boolean afterSpecial, TokenList out);

    @Override
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        TokenList out = new TokenList();
        if (addSpecial && vocab.addBos() && vocab.special().bos() != SpecialTokens.NONE) {
            out.add(vocab.special().bos());
        }
        if (!text.isEmpty()) {
            encodeFragments(text, parseSpecial, out);
        }
        if (addSpecial && vocab.addEos() && vocab.special().eos() != SpecialTokens.NONE) {
            out.add(vocab.special().eos());
        }
        return out.toArray();
    }

    private void encodeFragments(String text, boolean parseSpecial, TokenList out) {
        SpecialTokenMatcher matcher = parseSpecial ? allSpecialMatcher : userDefinedMatcher;
        boolean afterSpecial = true;
        for (SpecialTokenMatcher.Fragment fragment : matcher.split(text)) {
            if (fragment.isToken()) {
                out.add(fragment.token());
                afterSpecial = true;
            } else {
                encodeText(fragment.text(), afterSpecial, out);
                afterSpecial = false;
            }
        }
    }

    @Override
    public int[] encode(byte[] utf8, boolean addSpecial, boolean parseSpecial) {
        return encode(Utf8.decodeStrict(utf8), addSpecial, parseSpecial);
    }

    @Override
    public String decode(int[] tokens) {
        return decode(tokens, false);
    }

    @Override
    public String decode(int[] tokens, boolean renderSpecial) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(tokens.length * 4);
        boolean afterSpecial = true;
        for (int id : tokens) {
            byte[] bytes = tokenBytes(id);
            TokenType type = vocab.type(id);
            if (type == TokenType.CONTROL || type == TokenType.UNKNOWN) {
                if (renderSpecial) {
                    out.writeBytes(bytes);
                }
                afterSpecial = true;
                continue;
            }
            int skip = vocab.addSpacePrefix() && afterSpecial && bytes.length > 0 && bytes[0] == ' ' ? 1 : 0;
            out.write(bytes, skip, bytes.length - skip);
            afterSpecial = type == TokenType.USER_DEFINED;
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] tokenBytes(int id) {
        checkId(id);
        return tokenBytes[id];
    }

    private void checkId(int id) {
        if (id < 0 || id >= tokenBytes.length) {
            throw new TokenizerException("token id " + id + " is outside the vocabulary of " + tokenBytes.length + " tokens");
        }
    }

    @Override
    public int vocabSize() {
        return vocab.size();
    }

    @Override
    public int bos() {
        return vocab.special().bos();
    }

    @Override
    public int eos() {
        return vocab.special().eos();
    }

    @Override
    public Set<Integer> stopTokens() {
        return stopTokens;
    }

    @Override
    public boolean isSpecial(int id) {
        TokenType type = type(id);
        return type == TokenType.CONTROL || type == TokenType.UNKNOWN || type == TokenType.USER_DEFINED;
    }

    @Override
    public TokenType type(int id) {
        checkId(id);
        return vocab.type(id);
    }

    @Override
    public String piece(int id) {
        checkId(id);
        return vocab.tokens().get(id);
    }

    @Override
    public int id(String piece) {
        Integer id = ids.get(piece);
        return id == null ? SpecialTokens.NONE : id;
    }

    @Override
    public Vocabulary vocabulary() {
        return vocab;
    }
}
