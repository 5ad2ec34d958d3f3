package io.panllm.runtime.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Byte-level BPE (GPT-2, Llama 3), as llama.cpp's llm_tokenizer_bpe: the pre-tokenizer cuts the
 * text into words; each word starts as one token per UTF-8 byte and the adjacent pair with the
 * lowest merge rank is merged until no pair has a rank (ties: the leftmost pair). Merges are
 * looked up by token-id pairs, and each word's tokens are cached, so long texts go fast.
 */
final class BytePairTokenizer extends AbstractTokenizer {
    private static final int REMOVED = Integer.MIN_VALUE;

    private final PreTokenizer preTokenizer;
    /** llama.cpp's ignore_merges (Llama 3, Tekken): a word that is a whole vocabulary token is that token. */
    private final boolean ignoreMerges;
    /** Rank of each mergeable pair of token ids. */
    private final MergeRanks mergeRanks;
    /** The token each merge produces, by rank. */
    private final int[] mergedTokens;
    /** Token of each byte value, -1 where the vocabulary lacks one. */
    private final int[] byteTokens = new int[256];
    private final WordCache wordCache = new WordCache();

    BytePairTokenizer(Vocabulary vocab) {
        super(vocab);
        BpePreTokenizers pre = BpePreTokenizers.forName(vocab.preTokenizer());
        if (pre == null) {
            throw new UnsupportedTokenizerException("BPE pre-tokenizer '" + vocab.preTokenizer() + "' is not supported (supported: "
                    + BpePreTokenizers.supportedNames() + ")");
        }
        preTokenizer = pre.create();
        ignoreMerges = pre.ignoreMerges();
        for (int b = 0; b < 256; b++) {
            Integer id = ids.get(String.valueOf(ByteLevel.charOf(b)));
            byteTokens[b] = id == null ? -1 : id;
        }
        List<String> merges = vocab.merges();
        mergeRanks = new MergeRanks(merges.size());
        mergedTokens = new int[merges.size()];
        for (int rank = 0; rank < merges.size(); rank++) {
            String merge = merges.get(rank);
            int space = merge.indexOf(' ', 1);
            if (space < 0) {
                throw new TokenizerException("BPE merge #" + rank + " \"" + merge + "\" is not two tokens separated by a space");
            }
            String left = merge.substring(0, space);
            String right = merge.substring(space + 1);
            Integer leftId = ids.get(left);
            Integer rightId = ids.get(right);
            Integer mergedId = ids.get(left + right);
            if (leftId == null || rightId == null || mergedId == null) {
                continue; // a merge of or into pieces the vocabulary lacks can never apply
            }
            mergeRanks.putIfAbsent(leftId, rightId, rank);
            mergedTokens[rank] = mergedId;
        }
    }

    private int rank(int left, int right) {
        if (left < 0 || right < 0) {
            return -1;
        }
        return mergeRanks.get(left, right);
    }

    @Override
    protected byte[] textBytes(int id) {
        return ByteLevel.decode(vocab.tokens().get(id));
    }

    @Override
    protected void encodeText(String text, boolean afterSpecial, TokenList out) {
        for (String word : preTokenizer.split(text)) {
            out.addAll(wordCache.tokens(word, this::encodeWord));
        }
    }

    private int[] encodeWord(String word) {
        byte[] utf8 = word.getBytes(StandardCharsets.UTF_8);
        if (ignoreMerges) {
            Integer whole = ids.get(ByteLevel.encode(utf8));
            if (whole != null) {
                return new int[] {whole};
            }
        }
        int n = utf8.length;
        int[] tokens = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            tokens[i] = byteTokens[utf8[i] & 0xff];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        // Candidate merges ordered by (rank, left position); stale ones are checked on the way out.
        LongHeap candidates = new LongHeap(n);
        for (int i = 0; i + 1 < n; i++) {
            offer(candidates, tokens, i, i + 1);
        }
        while (!candidates.isEmpty()) {
            long candidate = candidates.poll();
            int rank = (int) (candidate >>> 32);
            int left = (int) candidate;
            int right = next[left];
            if (tokens[left] == REMOVED || right < 0 || rank(tokens[left], tokens[right]) != rank) {
                continue;
            }
            tokens[left] = mergedTokens[rank];
            tokens[right] = REMOVED;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            if (prev[left] >= 0) {
                offer(candidates, tokens, prev[left], left);
            }
            if (next[left] >= 0) {
                offer(candidates, tokens, left, next[left]);
            }
        }
        TokenList out = new TokenList();
        for (int i = 0; i != -1; i = next[i]) {
            if (tokens[i] >= 0) {
                out.add(tokens[i]);
            } else if (vocab.special().unknown() != SpecialTokens.NONE) {
                out.add(vocab.special().unknown()); // a byte the vocabulary cannot spell
            }
        }
        return out.toArray();
    }

    private void offer(LongHeap candidates, int[] tokens, int left, int right) {
        int rank = rank(tokens[left], tokens[right]);
        if (rank >= 0) {
            candidates.add((long) rank << 32 | left);
        }
    }

    /** A binary min-heap of longs. */
    private static final class LongHeap {
        private long[] heap;
        private int size;

        LongHeap(int capacity) {
            heap = new long[Math.max(capacity, 4)];
        }

        boolean isEmpty() {
            return size == 0;
        }

        void add(long value) {
            if (size == heap.length) {
                heap = Arrays.copyOf(heap, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (heap[parent] <= value) {
                    break;
                }
                heap[i] = heap[parent];
                i = parent;
            }
            heap[i] = value;
        }

        long poll() {
            long top = heap[0];
            long last = heap[--size];
            int i = 0;
            while (true) {
                int child = 2 * i + 1;
                if (child >= size) {
                    break;
                }
                if (child + 1 < size && heap[child + 1] < heap[child]) {
                    child++;
                }
                if (heap[child] >= last) {
                    break;
                }
                heap[i] = heap[child];
                i = child;
            }
            heap[i] = last;
            return top;
        }
    }
}
