package io.panllm.runtime.generate;

import java.util.Arrays;

/** The last {@code capacity} tokens seen, oldest first: the window the repetition penalties look at. */
public final class RecentTokens {

    private final int[] ring;
    private int size;
    /** Index of the oldest token in {@link #ring}. */
    private int head;

    public RecentTokens(int capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity must be >= 0, got " + capacity);
        }
        this.ring = new int[capacity];
    }

    public int capacity() {
        return ring.length;
    }

    public int size() {
        return size;
    }

    /** Appends {@code token}, forgetting the oldest one when the window is full. */
    public void add(int token) {
        if (ring.length == 0) {
            return;
        }
        if (size < ring.length) {
            ring[(head + size) % ring.length] = token;
            size++;
        } else {
            ring[head] = token;
            head = (head + 1) % ring.length;
        }
    }

    public void clear() {
        size = 0;
        head = 0;
    }

    /** The tokens in the window, oldest first. */
    public int[] toArray() {
        int[] tokens = new int[size];
        for (int i = 0; i < size; i++) {
            tokens[i] = ring[(head + i) % ring.length];
        }
        return tokens;
    }

    @Override
    public String toString() {
        return Arrays.toString(toArray());
    }
}
