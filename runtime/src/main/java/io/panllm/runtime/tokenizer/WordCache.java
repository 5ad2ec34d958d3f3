package io.panllm.runtime.tokenizer;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Tokens of words already encoded: natural text repeats its words, so most lookups hit. Starts
 * over when full, which bounds memory on endless distinct input. Thread-safe.
 */
final class WordCache {
    private static final int LIMIT = 1 << 17;

    private final Map<String, int[]> tokensByWord = new ConcurrentHashMap<>();

    /** Callers must not modify the returned array. */
    int[] tokens(String word, Function<String, int[]> encoder) {
        int[] tokens = tokensByWord.get(word);
        if (tokens == null) {
            tokens = encoder.apply(word);
            if (tokensByWord.size() >= LIMIT) {
                tokensByWord.clear();
            }
            tokensByWord.put(word, tokens);
        }
        return tokens;
    }
}
