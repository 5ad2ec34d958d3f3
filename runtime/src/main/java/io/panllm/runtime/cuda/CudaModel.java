package io.panllm.runtime.cuda;

import io.panllm.kernels.CudaContext;
import io.panllm.kernels.CudaStream;
import io.panllm.kernels.CudaUnavailableException;
import io.panllm.kernels.DecodeKernels;
import io.panllm.kernels.DecodeKernels.AttentionShape;
import io.panllm.kernels.DecodeKernels.RopePairs;
import io.panllm.kernels.DeviceBuffer;
import io.panllm.runtime.Session;
import io.panllm.runtime.backend.Backend;
import io.panllm.runtime.model.ModelConfig;
import io.panllm.runtime.model.RopeLayout;
import io.panllm.tensor.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * The Llama forward pass on the GPU, one token at a time: each step is two captured CUDA graphs
 * (embedding and every layer; final norm and LM head) replayed with the token id and position
 * copied into device memory first (8 bytes). A layer: RMSNorm, Q/K/V GEMVs (+ biases), RoPE with
 * the KV-cache append, attention over the cache (split over positions), output projection,
 * residual, RMSNorm, gate/up GEMVs, SwiGLU, down projection, residual. Logits are copied back
 * only for the tokens whose logits are wanted; {@link #forwardGreedy} copies back one token id.
 * Prompts of {@link CudaPrefill#MIN_TOKENS} tokens or more run batched through {@link CudaPrefill}.
 */
public final class CudaModel implements Backend.BackendModel {
    private final ModelConfig config;
    private final CudaContext context;
    private final CudaStream stream;
    private final CudaKernels kernels;
    private final DeviceWeights weights;
    private final AttentionShape attentionShape;
    private final int attentionSplits;
    private CudaPrefill prefill;
    /** The many-sequences decode step (created on the first batch that takes it). */
    private CudaBatchedDecode batchedDecode;
    /** Whether every matrix is of a type CudaPrefill takes (null until first asked). */
    private Boolean prefillTypes;
    private boolean noCublas;

    CudaModel(ModelConfig config, DeviceWeights weights, CudaContext context, CudaStream stream, CudaKernels kernels) {
        this.config = config;
        this.weights = weights;
        this.context = context;
        this.stream = stream;
        this.kernels = kernels;
        this.attentionShape = attentionShape(config);
        // CTAs of the attention kernel over all heads, per SM: 2 measured fastest on the H100 for
        // Llama-3.2-1B shapes (2, 4, 8, 16 tried; NOTES.md). The property is for tuning runs.
        int multiprocessors = context.device().multiprocessors();
        int ctasPerSm = Integer.getInteger("panllm.cuda.attentionCtasPerSm", 2);
        this.attentionSplits = Math.max(1, Math.min(64,
                (ctasPerSm * multiprocessors + config.headCount() - 1) / config.headCount()));
    }

    /** The attention kernel's view of the configuration; refuses head sizes it cannot take. */
    static AttentionShape attentionShape(ModelConfig config) {
        try {
            return new AttentionShape(config.headCount(), config.headCountKv(), config.headDim());
        } catch (IllegalArgumentException e) {
            throw new UnsupportedOnGpuException("head dimension " + config.headDim() + " (" + e.getMessage() + ")");
        }
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    /** Device bytes of the weights. */
    public long weightBytes() {
        return weights.byteSize();
    }

    @Override
    public Backend.KvCache newKvCache(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("context size must be at least 1, got " + capacity);
        }
        context.makeCurrent();
        CudaKvCache kv = new CudaKvCache(config, capacity, attentionSplits, context);
        kv.argmax.fillWords(0, stream); // the argmax kernel's completion counter starts at zero
        return kv;
    }

    @Override
    public void forward(Backend.KvCache cache, int[] tokens, int startPosition, Backend.Logits wanted,
            Session.LogitsSink sink) {
        CudaKvCache kv = prepare(cache, tokens, startPosition);
        float[] logits = new float[config.vocabSize()];
        if (batched(tokens.length)) {
            prefill.run(kv, tokens, startPosition, wanted == Backend.Logits.ALL, i -> emitLogits(kv, i, logits, sink));
            return;
        }
        for (int i = 0; i < tokens.length; i++) {
            boolean wantLogits = wanted == Backend.Logits.ALL || i == tokens.length - 1;
            runLayers(kv, startPosition + i);
            if (wantLogits) {
                emitLogits(kv, i, logits, sink);
            }
        }
    }

    /** Final norm and LM head over {@code kv.residual}, the logits to the host and the sink. */
    private void emitLogits(CudaKvCache kv, int index, float[] logits, Session.LogitsSink sink) {
        kv.headGraph.launch(stream);
        kv.logits.copyToAsync(kv.hostLogits.segment(), stream);
        stream.synchronize();
        MemorySegment.copy(kv.hostLogits.segment(), ValueLayout.JAVA_FLOAT, 0, logits, 0, logits.length);
        sink.accept(index, logits);
    }

    /**
     * Whether {@code tokens} prompt tokens go through the batched path ({@link CudaPrefill}, created
     * on first use). Where cuBLAS cannot be loaded, every prompt replays the decode graph instead.
     */
    private boolean batched(int tokens) {
        return CudaPrefill.takes(config, tokens) && prefillReady();
    }

    /** Whether the model's matrices can go through {@link CudaPrefill} (created on first use). */
    private boolean prefillReady() {
        // CudaPrefill converts every layer matrix type the GPU multiplies with to fp16 (INT8 with its
        // row scales). The LM head may be any type: prefill computes logits with the decode GEMV.
        if (prefillTypes == null) {
            prefillTypes = weights.layerMatricesAllOf(java.util.EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16,
                    GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.IQ4_NL, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.NF4,
                    GgmlType.FP4, GgmlType.I8));
        }
        if (noCublas || !prefillTypes || config.embeddingLength() % 4 != 0) {
            return false;
        }
        if (prefill == null) {
            try {
                prefill = new CudaPrefill(config, weights, context, stream, kernels);
            } catch (CudaUnavailableException e) {
                noCublas = true;
                return false;
            }
        }
        return true;
    }

    /**
     * Sequences of a {@link #decodeBatch} step from which it runs batched ({@link CudaBatchedDecode});
     * fewer decode one after another through their own graphs (the GEMV path).
     */
    static final int BATCHED_MIN_SEQUENCES = Integer.getInteger("panllm.cuda.batchedMinSequences", 4);

    @Override
    public void decodeBatch(Backend.KvCache[] caches, int[] tokens, int[] positions, Session.LogitsSink sink) {
        if (!batchedDecode(caches, tokens, positions)) {
            Backend.BackendModel.super.decodeBatch(caches, tokens, positions, sink);
            return;
        }
        for (int first = 0; first < caches.length; first += CudaBatchedDecode.MAX_SEQUENCES) {
            int end = Math.min(caches.length, first + CudaBatchedDecode.MAX_SEQUENCES);
            int offset = first;
            batchedDecode.step(group(caches, first, end), java.util.Arrays.copyOfRange(tokens, first, end),
                    java.util.Arrays.copyOfRange(positions, first, end), (i, logits) -> sink.accept(offset + i, logits));
        }
    }

    @Override
    public int[] decodeBatchGreedy(Backend.KvCache[] caches, int[] tokens, int[] positions) {
        if (!batchedDecode(caches, tokens, positions)) {
            int[] next = new int[caches.length]; // one after another, each argmax on the GPU
            for (int i = 0; i < caches.length; i++) {
                next[i] = forwardGreedy(caches[i], new int[] {tokens[i]}, positions[i]);
            }
            return next;
        }
        int[] next = new int[caches.length];
        for (int first = 0; first < caches.length; first += CudaBatchedDecode.MAX_SEQUENCES) {
            int end = Math.min(caches.length, first + CudaBatchedDecode.MAX_SEQUENCES);
            int[] group = batchedDecode.step(group(caches, first, end), java.util.Arrays.copyOfRange(tokens, first, end),
                    java.util.Arrays.copyOfRange(positions, first, end), null);
            System.arraycopy(group, 0, next, first, group.length);
        }
        return next;
    }

    /**
     * Checks the batch and whether it takes the batched step: enough sequences, and the prefill
     * (whose buffers and matrix products the step uses) available for this model.
     */
    private boolean batchedDecode(Backend.KvCache[] caches, int[] tokens, int[] positions) {
        if (caches.length != tokens.length || caches.length != positions.length) {
            throw new IllegalArgumentException(caches.length + " caches, " + tokens.length + " tokens and " + positions.length
                    + " positions");
        }
        for (int i = 0; i < caches.length; i++) {
            if (!(caches[i] instanceof CudaKvCache kv)) {
                throw new IllegalArgumentException("not a KV cache of the CUDA backend: " + caches[i]);
            }
            if (positions[i] < 0 || positions[i] >= kv.capacity()) {
                throw new IllegalArgumentException("position " + positions[i] + " does not fit in a cache of " + kv.capacity());
            }
        }
        context.makeCurrent();
        if (caches.length < BATCHED_MIN_SEQUENCES || !prefillReady()) {
            return false;
        }
        if (batchedDecode == null) {
            batchedDecode = new CudaBatchedDecode(config, weights, context, stream, kernels, prefill);
        }
        return true;
    }

    private static CudaKvCache[] group(Backend.KvCache[] caches, int first, int end) {
        CudaKvCache[] group = new CudaKvCache[end - first];
        for (int i = first; i < end; i++) {
            group[i - first] = (CudaKvCache) caches[i];
        }
        return group;
    }

    /**
     * Runs {@code tokens} as {@link #forward} does and returns the id of the largest logit after
     * the last one (the first on ties), computed on the GPU: 4 bytes come back instead of the logits.
     */
    @Override
    public int forwardGreedy(Backend.KvCache cache, int[] tokens, int startPosition) {
        CudaKvCache kv = prepare(cache, tokens, startPosition);
        if (batched(tokens.length)) {
            prefill.run(kv, tokens, startPosition, false, i -> { });
        } else {
            for (int i = 0; i < tokens.length; i++) {
                runLayers(kv, startPosition + i);
            }
        }
        kv.headGraph.launch(stream);
        kernels.decode().argmax(stream, kv.logits, config.vocabSize(), kv.argmax);
        kv.argmax.copyToAsync(kv.hostArgmax.segment(), stream);
        stream.synchronize();
        return kv.hostArgmax.segment().get(ValueLayout.JAVA_INT, 0);
    }

    private CudaKvCache prepare(Backend.KvCache cache, int[] tokens, int startPosition) {
        if (!(cache instanceof CudaKvCache kv)) {
            throw new IllegalArgumentException("not a KV cache of the CUDA backend: " + cache);
        }
        if (tokens.length == 0 || startPosition < 0 || startPosition + tokens.length > kv.capacity()) {
            throw new IllegalArgumentException("positions " + startPosition + " to " + (startPosition + tokens.length)
                    + " do not fit in a cache of " + kv.capacity());
        }
        context.makeCurrent();
        if (kv.layersGraph == null) {
            kv.layersGraph = kv.keep(stream.capture(() -> enqueueLayers(kv)));
            kv.headGraph = kv.keep(stream.capture(() -> enqueueHead(kv)));
        }
        // (token, position) of every step goes to its own pinned slot, so the copies can all be queued
        MemorySegment inputs = kv.hostStepInputs.segment();
        for (int i = 0; i < tokens.length; i++) {
            int position = startPosition + i;
            inputs.setAtIndex(ValueLayout.JAVA_INT, 2L * position, tokens[i]);
            inputs.setAtIndex(ValueLayout.JAVA_INT, 2L * position + 1, position);
        }
        return kv;
    }

    /** Queues the step of the token at {@code position} (its input already in the pinned slots). */
    private void runLayers(CudaKvCache kv, int position) {
        kv.stepInput.copyFromAsync(kv.hostStepInputs.segment().asSlice(8L * position, 8), stream);
        kv.layersGraph.launch(stream);
    }

    /**
     * What the layers graph runs: embedding lookup, then every layer. Each residual add is fused
     * with the norm that follows it (attention output + FFN norm, FFN output + the next layer's
     * attention norm) where the one-CTA norm fits the width; the last layer's add stands alone
     * (the final norm is in the head graph).
     */
    private void enqueueLayers(CudaKvCache kv) {
        weights.tokenEmbedding.lookUpRow(kernels, stream, kv.token, kv.residual);
        List<DeviceWeights.Layer> layers = weights.layers;
        rmsNorm(kv.normed, kv.residual, layers.getFirst().attentionNorm());
        for (int l = 0; l < layers.size(); l++) {
            DeviceWeights.Layer layer = layers.get(l);
            enqueueAttention(kv, layer, l);
            addAndNorm(kv, layer.ffnNorm());
            enqueueFeedForward(kv, layer);
            if (l + 1 < layers.size()) {
                addAndNorm(kv, layers.get(l + 1).attentionNorm());
            } else {
                kernels.layer().add(stream, kv.residual, kv.projected, config.embeddingLength());
            }
        }
    }

    /** residual += projected, then normed = rmsnorm(residual) * weight. */
    private void addAndNorm(CudaKvCache kv, DeviceBuffer normWeight) {
        int dim = config.embeddingLength();
        if (DecodeKernels.rmsNormFits(dim)) {
            kernels.decode().addRmsNorm(stream, kv.normed, kv.residual, kv.projected, normWeight, dim, config.rmsNormEps());
        } else {
            kernels.layer().add(stream, kv.residual, kv.projected, dim);
            rmsNorm(kv.normed, kv.residual, normWeight);
        }
    }

    /** From normed (the attention norm of the residual) to projected (the attention output projection). */
    private void enqueueAttention(CudaKvCache kv, DeviceWeights.Layer layer, int l) {
        DeviceMatrix.multiplyAll(layer.qkv(), kernels, stream, kv.normed, kv.quantizedInput, kv.qkv);
        addBias(kv.query, layer.queryBias(), config.queryDim());
        addBias(kv.key, layer.keyBias(), config.kvDim());
        addBias(kv.value, layer.valueBias(), config.kvDim());
        RopePairs pairs = config.ropeLayout() == RopeLayout.ADJACENT_PAIRS ? RopePairs.ADJACENT : RopePairs.HALVES;
        DecodeKernels decode = kernels.decode();
        decode.ropeAndStore(stream, attentionShape, config.ropeDimensionCount(), pairs, kv.query, kv.key, kv.value,
                kv.keys[l], kv.values[l], weights.ropeInverseFrequencies, kv.position);
        decode.attention(stream, attentionShape, attentionSplits, kv.query, kv.keys[l], kv.values[l], kv.position,
                kv.attentionPartials, kv.attention);
        layer.attentionOutput().multiply(kernels, stream, kv.attention, kv.quantizedInput, kv.projected);
    }

    /** From normed (the FFN norm of the residual) to projected (the down projection). */
    private void enqueueFeedForward(CudaKvCache kv, DeviceWeights.Layer layer) {
        DeviceMatrix.multiplyAll(layer.gateUp(), kernels, stream, kv.normed, kv.quantizedInput, kv.gateUp);
        kernels.layer().swiglu(stream, kv.gate, kv.gate, kv.up, config.feedForwardLength());
        layer.ffnDown().multiply(kernels, stream, kv.gate, kv.quantizedInput, kv.projected);
    }

    /** {@code x += bias}, if the model has the bias. */
    private void addBias(DeviceBuffer x, DeviceBuffer bias, int n) {
        if (bias != null) {
            kernels.layer().add(stream, x, bias, n);
        }
    }

    /** RMSNorm of the model's width: the one-pass kernel where it fits, else the general one. */
    private void rmsNorm(DeviceBuffer out, DeviceBuffer x, DeviceBuffer weight) {
        int dim = config.embeddingLength();
        if (DecodeKernels.rmsNormFits(dim)) {
            kernels.decode().rmsNorm(stream, out, x, weight, dim, config.rmsNormEps());
        } else {
            kernels.layer().rmsNorm(stream, out, x, weight, 1, dim, config.rmsNormEps());
        }
    }

    /** What the head graph runs: final norm and LM head. */
    private void enqueueHead(CudaKvCache kv) {
        rmsNorm(kv.normed, kv.residual, weights.outputNorm);
        weights.output.multiply(kernels, stream, kv.normed, kv.quantizedInput, kv.logits);
    }

    @Override
    public void close() {
        context.makeCurrent();
        stream.synchronize();
        if (batchedDecode != null) {
            batchedDecode.close();
        }
        if (prefill != null) {
            prefill.close();
        }
        weights.close();
    }
}
