package io.panllm.runtime.tokenizer;

import java.util.Arrays;

/**
 * BPE merge ranks keyed by token-id pair: an open-addressing table of primitive longs and ints.
 * A {@code HashMap<Long, Integer>} would box every lookup and, worse, hash the pair
 * {@code left << 32 | right} to {@code left ^ right}, which piles the pairs of small ids into
 * few buckets; here the key is scrambled by a multiplicative hash.
 */
final class MergeRanks {
    private static final long EMPTY = -1L; // no real key: both ids would be -1

    private final long[] keys;
    private final int[] ranks;
    private final int mask;

    MergeRanks(int expectedPairs) {
        int capacity = Integer.highestOneBit(Math.max(4, expectedPairs) * 2 - 1) << 1; // load factor <= 0.5
        keys = new long[capacity];
        ranks = new int[capacity];
        mask = capacity - 1;
        Arrays.fill(keys, EMPTY);
    }

    private static long key(int left, int right) {
        return (long) left << 32 | (right & 0xffffffffL);
    }

    private int slot(long key) {
        return (int) ((key * 0x9E3779B97F4A7C15L) >>> 40) & mask;
    }

    /** Records the rank of a pair unless it already has one (the first, lowest rank wins). */
    void putIfAbsent(int left, int right, int rank) {
        long key = key(left, right);
        int i = slot(key);
        while (keys[i] != EMPTY) {
            if (keys[i] == key) {
                return;
            }
            i = (i + 1) & mask;
        }
        keys[i] = key;
        ranks[i] = rank;
    }

    /** The rank of the pair, or -1 if it does not merge. */
    int get(int left, int right) {
        long key = key(left, right);
        int i = slot(key);
        while (keys[i] != EMPTY) {
            if (keys[i] == key) {
                return ranks[i];
            }
            i = (i + 1) & mask;
        }
        return -1;
    }
}
