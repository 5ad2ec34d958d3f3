package io.panllm.runtime.cpu;

import io.panllm.runtime.Session;
import io.panllm.runtime.backend.Backend;
import io.panllm.runtime.model.LayerWeights;
import io.panllm.runtime.model.ModelConfig;
import io.panllm.runtime.model.ModelWeights;
import io.panllm.runtime.model.RopeLayout;
import io.panllm.runtime.model.TensorView;
import java.util.ArrayList;
import java.util.List;

/**
 * The Llama forward pass on the CPU, over a batch of tokens at consecutive positions: RMSNorm,
 * Q/K/V projections (+ biases), RoPE, grouped-query attention over the KV cache, output
 * projection, residual, RMSNorm, SwiGLU feed-forward, residual; then the final norm and the LM
 * head. Matrix products run on the stored (quantized) rows; everything else is float32.
 */
final class CpuModel implements Backend.BackendModel {
    /** Tokens processed together: each weight row is read once per this many tokens. */
    static final int MAX_BATCH = 16;
    /** Sequences of a {@link #decodeBatch} step processed together (more run in groups of this many). */
    static final int MAX_DECODE_BATCH = 64;

    private final ModelConfig config;
    private final Parallel parallel;
    private final CpuMatrix tokenEmbedding;
    private final List<Layer> layers;
    private final float[] outputNorm;
    private final CpuMatrix output;
    /** Per rotary pair i: the angle per position, base^(-2i/d) / rope_freqs[i] / linear scale. */
    private final double[] ropeFrequencies;
    /** Working buffers of {@link #decodeBatch} (its sequences' caches each hold buffers for one prompt). */
    private CpuKvCache.Activations decodeActivations;

    /** One block's matrices and vectors, ready to compute with. */
    private record Layer(float[] attentionNorm, CpuMatrix query, CpuMatrix key, CpuMatrix value,
            float[] queryBias, float[] keyBias, float[] valueBias, CpuMatrix attentionOutput,
            float[] ffnNorm, CpuMatrix ffnGate, CpuMatrix ffnUp, CpuMatrix ffnDown) {
    }

    /** Told every matrix product's input (calibration), or null. */
    private final MatrixInputs matrixInputs;

    CpuModel(ModelWeights weights, Parallel parallel, MatrixInputs matrixInputs) {
        this.config = weights.config();
        this.parallel = parallel;
        this.matrixInputs = matrixInputs;
        this.tokenEmbedding = matrix(weights.tokenEmbedding());
        this.output = matrix(weights.output());
        this.outputNorm = vector(weights.outputNorm());
        this.layers = new ArrayList<>();
        for (LayerWeights w : weights.layers()) {
            layers.add(new Layer(vector(w.attentionNorm()), matrix(w.query()), matrix(w.key()), matrix(w.value()),
                    vector(w.queryBias()), vector(w.keyBias()), vector(w.valueBias()), matrix(w.attentionOutput()),
                    vector(w.ffnNorm()), matrix(w.ffnGate()), matrix(w.ffnUp()), matrix(w.ffnDown())));
        }
        float[] factors = vector(weights.ropeFreqs());
        int pairs = config.ropeDimensionCount() / 2;
        ropeFrequencies = new double[pairs];
        for (int i = 0; i < pairs; i++) {
            double frequency = Math.pow(config.ropeFreqBase(), -2.0 * i / config.ropeDimensionCount());
            ropeFrequencies[i] = frequency / (factors == null ? 1.0 : factors[i]) / config.ropeScaleFactor();
        }
    }

    private static CpuMatrix matrix(TensorView view) {
        return new CpuMatrix(view, VectorKernels.of(view.type()));
    }

    /** A small tensor (norm, bias, rope factors) decoded to floats once; null stays null. */
    private static float[] vector(TensorView view) {
        if (view == null) {
            return null;
        }
        float[] values = new float[Math.toIntExact(view.elementCount())];
        view.type().codec().dequantize(view.data(), values, 0, values.length);
        return values;
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public CpuKvCache newKvCache(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("context size must be at least 1, got " + capacity);
        }
        return new CpuKvCache(config, capacity, MAX_BATCH);
    }

    @Override
    public void forward(Backend.KvCache cache, int[] tokens, int startPosition, Backend.Logits wanted,
            Session.LogitsSink sink) {
        if (!(cache instanceof CpuKvCache kv)) {
            throw new IllegalArgumentException("not a KV cache of the CPU backend: " + cache);
        }
        if (startPosition < 0 || startPosition + tokens.length > kv.capacity()) {
            throw new IllegalArgumentException("positions " + startPosition + " to " + (startPosition + tokens.length)
                    + " do not fit in a cache of " + kv.capacity());
        }
        float[] logitsOfOne = kv.activations.logitsOfOne;
        CpuKvCache[] caches = new CpuKvCache[MAX_BATCH];
        java.util.Arrays.fill(caches, kv);
        int[] positions = new int[MAX_BATCH];
        for (int first = 0; first < tokens.length; first += MAX_BATCH) {
            int batch = Math.min(MAX_BATCH, tokens.length - first);
            boolean lastChunk = first + batch == tokens.length;
            for (int t = 0; t < batch; t++) {
                positions[t] = startPosition + first + t;
            }
            forwardBatch(kv.activations, caches, positions, tokens, first, batch);
            if (wanted == Backend.Logits.ALL) {
                computeLogits(kv.activations, 0, batch);
                for (int t = 0; t < batch; t++) {
                    System.arraycopy(kv.activations.logits, t * config.vocabSize(), logitsOfOne, 0, config.vocabSize());
                    sink.accept(first + t, logitsOfOne);
                }
            } else if (lastChunk) {
                computeLogits(kv.activations, batch - 1, 1);
                System.arraycopy(kv.activations.logits, 0, logitsOfOne, 0, config.vocabSize());
                sink.accept(tokens.length - 1, logitsOfOne);
            }
        }
    }

    /**
     * One decode step of several sequences: their tokens go through the layers as one batch (each
     * weight row read once per {@link #MAX_DECODE_BATCH} sequences), each attending over its own
     * cache up to its own position. Synchronized: the step's buffers belong to the model.
     */
    @Override
    public synchronized void decodeBatch(Backend.KvCache[] caches, int[] tokens, int[] positions, Session.LogitsSink sink) {
        if (caches.length != tokens.length || caches.length != positions.length) {
            throw new IllegalArgumentException(caches.length + " caches, " + tokens.length + " tokens and " + positions.length
                    + " positions");
        }
        CpuKvCache[] kvs = new CpuKvCache[caches.length];
        for (int i = 0; i < caches.length; i++) {
            if (!(caches[i] instanceof CpuKvCache kv)) {
                throw new IllegalArgumentException("not a KV cache of the CPU backend: " + caches[i]);
            }
            if (positions[i] < 0 || positions[i] >= kv.capacity()) {
                throw new IllegalArgumentException("position " + positions[i] + " does not fit in a cache of " + kv.capacity());
            }
            kvs[i] = kv;
        }
        if (decodeActivations == null || decodeActivations.maxBatch < Math.min(kvs.length, MAX_DECODE_BATCH)) {
            decodeActivations = new CpuKvCache.Activations(config, Math.min(kvs.length, MAX_DECODE_BATCH));
        }
        CpuKvCache.Activations a = decodeActivations;
        int vocab = config.vocabSize();
        for (int first = 0; first < kvs.length; first += a.maxBatch) {
            int batch = Math.min(a.maxBatch, kvs.length - first);
            forwardBatch(a, java.util.Arrays.copyOfRange(kvs, first, first + batch),
                    java.util.Arrays.copyOfRange(positions, first, first + batch), tokens, first, batch);
            computeLogits(a, 0, batch);
            for (int t = 0; t < batch; t++) {
                System.arraycopy(a.logits, t * vocab, a.logitsOfOne, 0, vocab);
                sink.accept(first + t, a.logitsOfOne);
            }
        }
    }

    /**
     * Runs tokens[first .. first + batch) through every layer, token t at position positions[t]
     * of caches[t] (a prompt: one cache, consecutive positions; a decode step: a cache each);
     * leaves the residual stream in the activations.
     */
    private void forwardBatch(CpuKvCache.Activations a, CpuKvCache[] caches, int[] positions, int[] tokens, int first,
            int batch) {
        int dim = config.embeddingLength();
        for (int t = 0; t < batch; t++) {
            tokenEmbedding.dequantizeRow(tokens[first + t], a.residual, t * dim);
        }
        computeRopeAngles(a, batch, positions);
        for (int l = 0; l < layers.size(); l++) {
            Layer layer = layers.get(l);
            attention(layer, a, caches, positions, l, batch);
            feedForward(layer, a, batch);
        }
    }

    private void attention(Layer layer, CpuKvCache.Activations a, CpuKvCache[] caches, int[] positions, int layerIndex,
            int batch) {
        int dim = config.embeddingLength();
        int kvDim = config.kvDim();
        for (int t = 0; t < batch; t++) {
            FloatMath.rmsNorm(a.normed, a.residual, t * dim, layer.attentionNorm, dim, config.rmsNormEps());
        }
        multiply(layer.query, a.normed, batch, a.query);
        multiply(layer.key, a.normed, batch, a.key);
        multiply(layer.value, a.normed, batch, a.value);
        addBias(a.query, layer.queryBias, batch);
        addBias(a.key, layer.keyBias, batch);
        addBias(a.value, layer.valueBias, batch);
        for (int t = 0; t < batch; t++) {
            rotate(a.query, t * config.queryDim(), config.headCount(), a, t);
            rotate(a.key, t * kvDim, config.headCountKv(), a, t);
        }
        int longest = 0;
        for (int t = 0; t < batch; t++) {
            System.arraycopy(a.key, t * kvDim, caches[t].keys[layerIndex], positions[t] * kvDim, kvDim);
            System.arraycopy(a.value, t * kvDim, caches[t].values[layerIndex], positions[t] * kvDim, kvDim);
            longest = Math.max(longest, positions[t] + 1);
        }

        int heads = config.headCount();
        int headDim = config.headDim();
        int headsPerKv = heads / config.headCountKv();
        float scale = (float) (1.0 / Math.sqrt(headDim));
        int scoreLength = longest;
        long work = (long) batch * heads * longest * headDim * 2;
        parallel.forRange(batch * heads, work, (start, end) -> {
            float[] scores = new float[scoreLength];
            for (int task = start; task < end; task++) {
                int t = task / heads;
                int h = task % heads;
                float[] keys = caches[t].keys[layerIndex];
                float[] values = caches[t].values[layerIndex];
                int seen = positions[t] + 1; // causal: this token sees itself and everything before
                int queryOffset = t * config.queryDim() + h * headDim;
                int kvOffset = (h / headsPerKv) * headDim;
                for (int p = 0; p < seen; p++) {
                    scores[p] = FloatMath.dot(a.query, queryOffset, keys, p * kvDim + kvOffset, headDim) * scale;
                }
                FloatMath.softmax(scores, 0, seen);
                java.util.Arrays.fill(a.attention, queryOffset, queryOffset + headDim, 0f);
                for (int p = 0; p < seen; p++) {
                    FloatMath.addScaled(a.attention, queryOffset, values, p * kvDim + kvOffset, scores[p], headDim);
                }
            }
        });
        multiply(layer.attentionOutput, a.attention, batch, a.projected);
        addInPlace(a.residual, a.projected, batch * dim);
    }

    private void feedForward(Layer layer, CpuKvCache.Activations a, int batch) {
        int dim = config.embeddingLength();
        int hidden = config.feedForwardLength();
        for (int t = 0; t < batch; t++) {
            FloatMath.rmsNorm(a.normed, a.residual, t * dim, layer.ffnNorm, dim, config.rmsNormEps());
        }
        multiply(layer.ffnGate, a.normed, batch, a.gate);
        multiply(layer.ffnUp, a.normed, batch, a.up);
        for (int i = 0; i < batch * hidden; i++) {
            float g = a.gate[i];
            a.gate[i] = g / (1f + (float) Math.exp(-g)) * a.up[i]; // SwiGLU: silu(gate) * up
        }
        multiply(layer.ffnDown, a.gate, batch, a.projected);
        addInPlace(a.residual, a.projected, batch * dim);
    }

    /** Final norm and LM head for tokens [first, first + count) of the batch; logits land at a.logits[0 ..]. */
    private void computeLogits(CpuKvCache.Activations a, int first, int count) {
        int dim = config.embeddingLength();
        for (int t = 0; t < count; t++) {
            System.arraycopy(a.residual, (first + t) * dim, a.projected, t * dim, dim);
            FloatMath.rmsNorm(a.normed, a.projected, t * dim, outputNorm, dim, config.rmsNormEps());
        }
        multiply(output, a.normed, count, a.logits);
    }

    /** out = matrix . in for the batch's vectors, after showing in to the observer if there is one. */
    private void multiply(CpuMatrix matrix, float[] in, int batch, float[] out) {
        if (matrixInputs != null) {
            matrixInputs.observe(matrix.name(), in, batch, matrix.columns());
        }
        matrix.multiply(parallel, in, batch, out);
    }

    private void computeRopeAngles(CpuKvCache.Activations a, int batch, int[] positions) {
        int pairs = ropeFrequencies.length;
        for (int t = 0; t < batch; t++) {
            for (int i = 0; i < pairs; i++) {
                double angle = positions[t] * ropeFrequencies[i];
                a.ropeCos[t * pairs + i] = (float) Math.cos(angle);
                a.ropeSin[t * pairs + i] = (float) Math.sin(angle);
            }
        }
    }

    /**
     * RoPE on each of {@code heads} heads starting at {@code offset}: rotates pair i of the first
     * ropeDim elements by the token's angle i. Pairs are (2i, 2i + 1) or (i, i + ropeDim / 2)
     * depending on the layout.
     */
    private void rotate(float[] vectors, int offset, int heads, CpuKvCache.Activations a, int t) {
        int pairs = ropeFrequencies.length;
        boolean adjacent = config.ropeLayout() == RopeLayout.ADJACENT_PAIRS;
        for (int h = 0; h < heads; h++) {
            int head = offset + h * config.headDim();
            for (int i = 0; i < pairs; i++) {
                int first = adjacent ? head + 2 * i : head + i;
                int second = adjacent ? first + 1 : first + pairs;
                float cos = a.ropeCos[t * pairs + i];
                float sin = a.ropeSin[t * pairs + i];
                float x0 = vectors[first];
                float x1 = vectors[second];
                vectors[first] = x0 * cos - x1 * sin;
                vectors[second] = x0 * sin + x1 * cos;
            }
        }
    }

    /** Adds bias (one vector) to each of the batch's vectors; nothing if the model has none. */
    private static void addBias(float[] vectors, float[] bias, int batch) {
        if (bias == null) {
            return;
        }
        for (int t = 0; t < batch; t++) {
            FloatMath.addScaled(vectors, t * bias.length, bias, 0, 1f, bias.length);
        }
    }

    private static void addInPlace(float[] target, float[] addend, int n) {
        FloatMath.addScaled(target, 0, addend, 0, 1f, n);
    }

    @Override
    public void close() {
        // The weights belong to whoever mapped them; the thread pool to the backend.
    }
}
