package io.panllm.runtime.cuda;

import io.panllm.kernels.CudaContext;
import io.panllm.kernels.CudaGraph;
import io.panllm.kernels.CudaStream;
import io.panllm.kernels.DecodeKernels;
import io.panllm.kernels.DecodeKernels.AttentionShape;
import io.panllm.kernels.DecodeKernels.RopePairs;
import io.panllm.kernels.DeviceBuffer;
import io.panllm.runtime.Session;
import io.panllm.runtime.backend.Backend;
import io.panllm.runtime.model.ModelConfig;
import io.panllm.runtime.model.RopeLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;

/**
 * The Llama forward pass on the GPU, one token at a time: each step is two captured CUDA graphs
 * (embedding and every layer; final norm and LM head) replayed with the token id and position
 * copied into device memory first (8 bytes). A layer: RMSNorm, Q/K/V GEMVs (+ biases), RoPE with
 * the KV-cache append, attention over the cache (split over positions), output projection,
 * residual, RMSNorm, gate/up GEMVs, SwiGLU, down projection, residual. Logits are copied back
 * only for the tokens whose logits are wanted; {@link #forwardGreedy} copies back one token id.
 */
public final class CudaModel implements Backend.BackendModel {
    private final ModelConfig config;
    private final CudaContext context;
    private final CudaStream stream;
    private final CudaKernels kernels;
    private final DeviceWeights weights;
    private final AttentionShape attentionShape;
    private final int attentionSplits;
    /** Told after each stage of a step is enqueued; records events only while {@link #profileStep} captures. */
    private StageMarks marks = StageMarks.NONE;

    CudaModel(ModelConfig config, DeviceWeights weights, CudaContext context, CudaStream stream, CudaKernels kernels) {
        this.config = config;
        this.weights = weights;
        this.context = context;
        this.stream = stream;
        this.kernels = kernels;
        this.attentionShape = attentionShape(config);
        // about eight CTAs per SM over all heads: enough warps in flight to hide the cache reads
        // (each warp walks its positions one after the other)
        int multiprocessors = context.device().multiprocessors();
        int ctasPerSm = Integer.getInteger("panllm.cuda.attentionCtasPerSm", 8); // for tuning runs
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
        return new CudaKvCache(config, capacity, attentionSplits, context);
    }

    @Override
    public void forward(Backend.KvCache cache, int[] tokens, int startPosition, Backend.Logits wanted,
            Session.LogitsSink sink) {
        CudaKvCache kv = prepare(cache, tokens, startPosition);
        float[] logits = new float[config.vocabSize()];
        for (int i = 0; i < tokens.length; i++) {
            boolean wantLogits = wanted == Backend.Logits.ALL || i == tokens.length - 1;
            runLayers(kv, startPosition + i);
            if (wantLogits) {
                kv.headGraph.launch(stream);
                kv.logits.copyToAsync(kv.hostLogits.segment(), stream);
                stream.synchronize();
                MemorySegment.copy(kv.hostLogits.segment(), ValueLayout.JAVA_FLOAT, 0, logits, 0, logits.length);
                sink.accept(i, logits);
            }
        }
    }

    /**
     * Runs {@code tokens} as {@link #forward} does and returns the id of the largest logit after
     * the last one (the first on ties), computed on the GPU: 4 bytes come back instead of the logits.
     */
    public int forwardGreedy(Backend.KvCache cache, int[] tokens, int startPosition) {
        CudaKvCache kv = prepare(cache, tokens, startPosition);
        for (int i = 0; i < tokens.length; i++) {
            runLayers(kv, startPosition + i);
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

    /** What the layers graph runs: embedding lookup, then every layer. */
    private void enqueueLayers(CudaKvCache kv) {
        weights.tokenEmbedding.lookUpRow(kernels, stream, kv.token, kv.residual);
        marks.after("embedding");
        for (int l = 0; l < weights.layers.size(); l++) {
            DeviceWeights.Layer layer = weights.layers.get(l);
            enqueueAttention(kv, layer, l);
            enqueueFeedForward(kv, layer);
        }
    }

    private void enqueueAttention(CudaKvCache kv, DeviceWeights.Layer layer, int l) {
        int dim = config.embeddingLength();
        rmsNorm(kv.normed, kv.residual, layer.attentionNorm());
        marks.after("rmsnorm");
        DeviceMatrix.multiplyAll(layer.qkv(), kernels, stream, kv.normed, kv.qkv);
        marks.after("q/k/v gemv");
        addBias(kv.query, layer.queryBias(), config.queryDim());
        addBias(kv.key, layer.keyBias(), config.kvDim());
        addBias(kv.value, layer.valueBias(), config.kvDim());
        marks.after("biases");
        RopePairs pairs = config.ropeLayout() == RopeLayout.ADJACENT_PAIRS ? RopePairs.ADJACENT : RopePairs.HALVES;
        DecodeKernels decode = kernels.decode();
        decode.ropeAndStore(stream, attentionShape, config.ropeDimensionCount(), pairs, kv.query, kv.key, kv.value,
                kv.keys[l], kv.values[l], weights.ropeInverseFrequencies, kv.position);
        marks.after("rope + kv store");
        decode.attention(stream, attentionShape, attentionSplits, kv.query, kv.keys[l], kv.values[l], kv.position,
                kv.attentionPartials, kv.attention);
        marks.after("attention");
        layer.attentionOutput().multiply(kernels, stream, kv.attention, kv.projected);
        marks.after("attn_output gemv");
        kernels.layer().add(stream, kv.residual, kv.projected, dim);
        marks.after("residual add");
    }

    private void enqueueFeedForward(CudaKvCache kv, DeviceWeights.Layer layer) {
        int dim = config.embeddingLength();
        rmsNorm(kv.normed, kv.residual, layer.ffnNorm());
        marks.after("rmsnorm");
        DeviceMatrix.multiplyAll(layer.gateUp(), kernels, stream, kv.normed, kv.gateUp);
        marks.after("gate/up gemv");
        kernels.layer().swiglu(stream, kv.gate, kv.gate, kv.up, config.feedForwardLength());
        marks.after("swiglu");
        layer.ffnDown().multiply(kernels, stream, kv.gate, kv.projected);
        marks.after("ffn_down gemv");
        kernels.layer().add(stream, kv.residual, kv.projected, dim);
        marks.after("residual add");
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
        marks.after("rmsnorm");
        weights.output.multiply(kernels, stream, kv.normed, kv.logits);
        marks.after("lm head gemv");
    }

    /**
     * Where one decode step's device time goes: the step is captured once more with an event
     * after each stage, replayed for the token at {@code position} (the cache must hold the
     * positions before it), and each stage's time is summed over the layers, in milliseconds,
     * in the order the stages first ran. For tuning; the timings include no launch gaps.
     */
    public Map<String, Double> profileStep(Backend.KvCache cache, int token, int position) {
        CudaKvCache kv = prepare(cache, new int[] {token}, position);
        StageEvents events = new StageEvents(context);
        try {
            marks = events;
            try (CudaGraph graph = stream.capture(() -> {
                events.start(stream);
                enqueueLayers(kv);
                enqueueHead(kv);
            })) {
                marks = StageMarks.NONE;
                kv.stepInput.copyFromAsync(kv.hostStepInputs.segment().asSlice(8L * position, 8), stream);
                graph.launch(stream);
                stream.synchronize();
            }
            return events.millisByStage();
        } finally {
            marks = StageMarks.NONE;
            events.close();
        }
    }

    @Override
    public void close() {
        context.makeCurrent();
        stream.synchronize();
        weights.close();
    }
}
