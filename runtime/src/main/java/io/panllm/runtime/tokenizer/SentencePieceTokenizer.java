package io.panllm.runtime.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * SentencePiece BPE as llama.cpp's llm_tokenizer_spm runs it: spaces become "▁" (with one in
 * front of the text), the text starts as one symbol per character, and the adjacent pair whose
 * concatenation is the best-scoring vocabulary piece is merged, again and again (ties: the
 * leftmost pair). A symbol that ends up as no piece is spelled with byte tokens {@code <0xNN>}.
 *
 * <p>For {@link Vocabulary.Model#LLAMA2C} a character missing from the vocabulary goes to bytes
 * at once and never merges, as in llama2.c's run.c (whose greedy left-to-right scan for the best
 * pair picks the same merges as the priority queue).
 */
final class SentencePieceTokenizer extends AbstractTokenizer {
    private static final char SPACE_MARK = '\u2581'; // "▁"

    private final float[] scores;
    private final boolean unknownCharsMerge;
    /** Token of each byte value for the fallback (the unknown token where the vocabulary has none). */
    private final int[] byteTokens = new int[256];
    /**
     * Whether no piece has "▁" after another character, as in vocabularies trained with
     * split_by_whitespace. Then no merge can cross the start of a word ("▁" after a non-"▁"), so
     * the words can be encoded one at a time and cached with the same result as the whole text.
     */
    private final boolean mergesStayInWords;
    private static final java.util.regex.Pattern BYTE_PIECE = java.util.regex.Pattern.compile("<0x[0-9A-Fa-f]{2}>");
    private final WordCache wordCache = new WordCache();

    SentencePieceTokenizer(Vocabulary vocab) {
        this(vocab, true);
    }

    /** @param splitWords encode word by word where the vocabulary allows it (false: tests compare both ways) */
    SentencePieceTokenizer(Vocabulary vocab, boolean splitWords) {
        super(vocab);
        this.scores = vocab.scores();
        this.unknownCharsMerge = vocab.model() != Vocabulary.Model.LLAMA2C;
        for (int id = 0; id < vocab.tokens().size(); id++) {
            if (vocab.type(id) == TokenType.BYTE && !BYTE_PIECE.matcher(vocab.tokens().get(id)).matches()) {
                throw new TokenizerException("token " + id + " '" + vocab.tokens().get(id)
                        + "' is marked as a byte token but is not of the form <0xNN>");
            }
        }
        for (int b = 0; b < 256; b++) {
            Integer id = ids.get(String.format("<0x%02X>", b));
            if (id == null && b < 0x80) {
                id = ids.get(String.valueOf((char) b)); // llama.cpp's second choice: the byte as a piece
            }
            byteTokens[b] = id == null ? vocab.special().unknown() : id;
        }
        mergesStayInWords = splitWords && vocab.tokens().stream().noneMatch(SentencePieceTokenizer::hasWordStartInside);
    }

    @Override
    protected byte[] textBytes(int id) {
        String piece = vocab.tokens().get(id);
        if (vocab.type(id) == TokenType.BYTE && BYTE_PIECE.matcher(piece).matches()) {
            return new byte[] {(byte) Integer.parseInt(piece, 3, 5, 16)};
        }
        return piece.replace(SPACE_MARK, ' ').getBytes(StandardCharsets.UTF_8);
    }

    /** A candidate merge of the symbols {@code left} and {@code right}; {@code length} tells stale entries apart. */
    private record Bigram(int left, int right, float score, int length) {
    }

    private static boolean hasWordStartInside(String piece) {
        for (int i = 1; i < piece.length(); i++) {
            if (isWordStart(piece, i)) {
                return true;
            }
        }
        return false;
    }

    private static boolean isWordStart(String text, int i) {
        return text.charAt(i) == SPACE_MARK && text.charAt(i - 1) != SPACE_MARK;
    }

    @Override
    protected void encodeText(String fragment, boolean afterSpecial, TokenList out) {
        String text = (vocab.addSpacePrefix() && afterSpecial ? " " : "") + fragment;
        text = text.replace(' ', SPACE_MARK);
        if (!mergesStayInWords) {
            out.addAll(encodeSymbols(text));
            return;
        }
        int wordStart = 0;
        for (int i = 1; i < text.length(); i++) {
            if (isWordStart(text, i)) {
                out.addAll(wordCache.tokens(text.substring(wordStart, i), this::encodeSymbols));
                wordStart = i;
            }
        }
        out.addAll(wordCache.tokens(text.substring(wordStart), this::encodeSymbols));
    }

    /** The merge loop over one run of escaped text. */
    private int[] encodeSymbols(String text) {
        TokenList out = new TokenList();
        Symbols symbols = new Symbols(text);
        if (symbols.count == 0) {
            return out.toArray();
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) ->
                a.score != b.score ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));
        for (int i = 1; i < symbols.count; i++) {
            offer(symbols, i - 1, i, queue);
        }
        while (!queue.isEmpty()) {
            Bigram bigram = queue.poll();
            int left = bigram.left;
            int right = bigram.right;
            // Skip pairs that a merge since has changed: one side emptied or grown.
            if (symbols.length[left] == 0 || symbols.length[right] == 0
                    || symbols.length[left] + symbols.length[right] != bigram.length) {
                continue;
            }
            symbols.mergeWithNext(left);
            offer(symbols, symbols.prev[left], left, queue);
            offer(symbols, left, symbols.next[left], queue);
        }
        for (int i = 0; i != -1; i = symbols.next[i]) {
            String piece = symbols.text(i);
            Integer id = ids.get(piece);
            if (id != null) {
                out.add(id);
            } else {
                for (byte b : piece.getBytes(StandardCharsets.UTF_8)) {
                    int byteToken = byteTokens[b & 0xff];
                    if (byteToken != SpecialTokens.NONE) {
                        out.add(byteToken);
                    }
                }
            }
        }
        return out.toArray();
    }

    private void offer(Symbols symbols, int left, int right, PriorityQueue<Bigram> queue) {
        if (left < 0 || right < 0) {
            return;
        }
        if (!unknownCharsMerge && (symbols.unknownChar(left, ids) || symbols.unknownChar(right, ids))) {
            return;
        }
        String merged = symbols.textOfPair(left, right);
        Integer id = ids.get(merged);
        if (id != null) {
            queue.add(new Bigram(left, right, scores[id], merged.length()));
        }
    }

    /** The text as a doubly linked list of symbols (substrings), one per character to start with. */
    private static final class Symbols {
        final String text;
        final int count;
        final int[] start;
        final int[] length;
        final int[] prev;
        final int[] next;

        Symbols(String text) {
            this.text = text;
            this.count = text.codePointCount(0, text.length());
            start = new int[count];
            length = new int[count];
            prev = new int[count];
            next = new int[count];
            int offset = 0;
            for (int i = 0; i < count; i++) {
                start[i] = offset;
                length[i] = Character.charCount(text.codePointAt(offset));
                offset += length[i];
                prev[i] = i - 1;
                next[i] = i + 1 < count ? i + 1 : -1;
            }
        }

        String text(int i) {
            return text.substring(start[i], start[i] + length[i]);
        }

        String textOfPair(int left, int right) {
            return text.substring(start[left], start[left] + length[left] + length[right]);
        }

        /** An original one-character symbol that is no vocabulary piece (merged symbols always are). */
        boolean unknownChar(int i, Map<String, Integer> ids) {
            return !ids.containsKey(text(i));
        }

        void mergeWithNext(int left) {
            int right = next[left];
            length[left] += length[right];
            length[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
        }
    }
}
