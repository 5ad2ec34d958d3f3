package io.panllm.runtime.cpu;

import io.panllm.runtime.backend.Backend;
import io.panllm.runtime.model.ModelConfig;

/**
 * Keys and values of one sequence in float32, one array per layer holding
 * {@code capacity x kvDim} floats (position-major), plus the working buffers of a forward pass
 * (kept here so that two sequences can run at once and a pass allocates nothing big).
 */
final class CpuKvCache implements Backend.KvCache {
    final float[][] keys;
    final float[][] values;
    final Activations activations;
    private final int capacity;

    CpuKvCache(ModelConfig config, int capacity, int maxBatch) {
        long perLayer = (long) capacity * config.kvDim();
        if (perLayer > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("context size " + capacity + " is too large for the CPU KV cache (at most "
                    + (Integer.MAX_VALUE - 8) / config.kvDim() + " positions); use a smaller context size");
        }
        long bytes = 2L * config.blockCount() * perLayer * Float.BYTES;
        Runtime heap = Runtime.getRuntime();
        long available = heap.maxMemory() - (heap.totalMemory() - heap.freeMemory());
        if (bytes > available) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT,
                    "a KV cache of %d positions needs %.1f GiB but the Java heap has %.1f GiB free;"
                            + " use a smaller context size or a larger -Xmx",
                    capacity, bytes / (double) (1L << 30), available / (double) (1L << 30)));
        }
        this.capacity = capacity;
        this.keys = new float[config.blockCount()][(int) perLayer];
        this.values = new float[config.blockCount()][(int) perLayer];
        this.activations = new Activations(config, maxBatch);
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public void close() {
        // Heap memory: nothing to release early.
    }

    /** Buffers for up to maxBatch tokens, each holding token after token. */
    static final class Activations {
        final int maxBatch;
        final float[] residual;     // x, batch x dim
        final float[] normed;       // rmsnorm(x), batch x dim
        final float[] query;        // batch x queryDim
        final float[] key;          // batch x kvDim
        final float[] value;        // batch x kvDim
        final float[] attention;    // attention output before the projection, batch x queryDim
        final float[] projected;    // attention or ffn output projected back to dim, batch x dim
        final float[] gate;         // batch x ffn
        final float[] up;           // batch x ffn
        final float[] logits;       // batch x vocab
        final float[] logitsOfOne;  // vocab: what the sink is handed
        final float[] ropeCos;      // ropeDim / 2 per token
        final float[] ropeSin;

        Activations(ModelConfig c, int maxBatch) {
            this.maxBatch = maxBatch;
            residual = new float[maxBatch * c.embeddingLength()];
            normed = new float[maxBatch * c.embeddingLength()];
            query = new float[maxBatch * c.queryDim()];
            key = new float[maxBatch * c.kvDim()];
            value = new float[maxBatch * c.kvDim()];
            attention = new float[maxBatch * c.queryDim()];
            projected = new float[maxBatch * c.embeddingLength()];
            gate = new float[maxBatch * c.feedForwardLength()];
            up = new float[maxBatch * c.feedForwardLength()];
            logits = new float[maxBatch * c.vocabSize()];
            logitsOfOne = new float[c.vocabSize()];
            ropeCos = new float[maxBatch * c.ropeDimensionCount() / 2];
            ropeSin = new float[maxBatch * c.ropeDimensionCount() / 2];
        }
    }
}
