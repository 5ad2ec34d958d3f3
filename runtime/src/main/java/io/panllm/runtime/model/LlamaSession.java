package io.panllm.runtime.model;

import io.panllm.runtime.ContextOverflowException;
import io.panllm.runtime.Session;
import io.panllm.runtime.backend.Backend;

/** A sequence on any backend: checks the input, keeps the position, lets the backend compute. */
final class LlamaSession implements Session {
    private final Backend.BackendModel model;
    private final Backend.KvCache cache;
    private final int vocabSize;
    private int position;

    LlamaSession(Backend.BackendModel model, int contextSize) {
        this.model = model;
        this.cache = model.newKvCache(contextSize);
        this.vocabSize = model.config().vocabSize();
    }

    @Override
    public int position() {
        return position;
    }

    @Override
    public int capacity() {
        return cache.capacity();
    }

    @Override
    public float[] forward(int[] tokens) {
        float[][] last = new float[1][];
        run(tokens, Backend.Logits.LAST, (index, logits) -> last[0] = logits.clone());
        return last[0];
    }

    @Override
    public void forward(int[] tokens, LogitsSink sink) {
        run(tokens, Backend.Logits.ALL, sink);
    }

    @Override
    public int forwardGreedy(int[] tokens) {
        check(tokens);
        int token = model.forwardGreedy(cache, tokens, position);
        position += tokens.length;
        return token;
    }

    private void run(int[] tokens, Backend.Logits wanted, LogitsSink sink) {
        check(tokens);
        model.forward(cache, tokens, position, wanted, sink);
        position += tokens.length;
    }

    /** The model this session decodes with (a batch must share one). */
    Backend.BackendModel backendModel() {
        return model;
    }

    Backend.KvCache cache() {
        return cache;
    }

    /** After a batched step computed this session's token: the position moves on by one. */
    void advance() {
        position++;
    }

    void check(int[] tokens) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("no tokens to process");
        }
        if (tokens.length > capacity() - position) {
            throw new ContextOverflowException(position, tokens.length, capacity());
        }
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= vocabSize) {
                throw new IllegalArgumentException("token " + i + " has id " + tokens[i] + ", outside the vocabulary (0 to "
                        + (vocabSize - 1) + ")");
            }
        }
    }

    @Override
    public void rewind(int newPosition) {
        if (newPosition < 0 || newPosition > position) {
            throw new IllegalArgumentException("cannot rewind to position " + newPosition + " (session is at " + position + ")");
        }
        // The cache entries after newPosition are simply overwritten by the next forward pass.
        position = newPosition;
    }

    @Override
    public void close() {
        cache.close();
    }
}
