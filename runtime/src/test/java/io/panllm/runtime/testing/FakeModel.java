package io.panllm.runtime.testing;

import io.panllm.runtime.ContextOverflowException;
import io.panllm.runtime.LanguageModel;
import io.panllm.runtime.Session;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A deterministic {@link LanguageModel} for tests: the logits after a token are a function of the
 * whole sequence in the cache up to and including it. Records what it was asked to evaluate.
 */
public final class FakeModel implements LanguageModel {

    /** Logits for the next token given the sequence so far (never empty). */
    @FunctionalInterface
    public interface LogitsFunction {
        float[] logits(int[] sequence);
    }

    private final int vocabSize;
    private final LogitsFunction function;
    /** Every batch given to forward(), with the position it started at. */
    public final List<int[]> batches = new ArrayList<>();
    public final List<Integer> batchPositions = new ArrayList<>();
    public int sessionsOpened;
    /** Milliseconds each forward call sleeps (to test cancellation from another thread). */
    public volatile long delayMillis;

    public FakeModel(int vocabSize, LogitsFunction function) {
        this.vocabSize = vocabSize;
        this.function = function;
    }

    /** Logits that do not depend on the context. */
    public static FakeModel constant(float... logits) {
        return new FakeModel(logits.length, sequence -> logits.clone());
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public int trainedContextLength() {
        return 4096;
    }

    @Override
    public Session newSession(int contextSize) {
        sessionsOpened++;
        return new FakeSession(contextSize);
    }

    @Override
    public String description() {
        return "fake model, vocabulary " + vocabSize;
    }

    @Override
    public void close() {
    }

    private final class FakeSession implements Session {
        private final int capacity;
        private int[] cache = new int[0];

        FakeSession(int capacity) {
            this.capacity = capacity;
        }

        @Override
        public int position() {
            return cache.length;
        }

        @Override
        public int capacity() {
            return capacity;
        }

        @Override
        public float[] forward(int[] tokens) {
            float[][] last = new float[1][];
            forward(tokens, (index, logits) -> last[0] = logits.clone());
            return last[0];
        }

        @Override
        public void forward(int[] tokens, LogitsSink sink) {
            if (cache.length + tokens.length > capacity) {
                throw new ContextOverflowException(cache.length, tokens.length, capacity);
            }
            if (delayMillis > 0) {
                try {
                    Thread.sleep(delayMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            batches.add(tokens.clone());
            batchPositions.add(cache.length);
            for (int i = 0; i < tokens.length; i++) {
                if (tokens[i] < 0 || tokens[i] >= vocabSize) {
                    throw new IllegalArgumentException("token " + tokens[i] + " outside the vocabulary");
                }
                cache = Arrays.copyOf(cache, cache.length + 1);
                cache[cache.length - 1] = tokens[i];
                float[] logits = function.logits(cache.clone());
                if (logits.length != vocabSize) {
                    throw new IllegalStateException("logits function gave " + logits.length + " values");
                }
                sink.accept(i, logits);
            }
        }

        @Override
        public void rewind(int position) {
            cache = Arrays.copyOf(cache, position);
        }

        @Override
        public void close() {
        }
    }
}
