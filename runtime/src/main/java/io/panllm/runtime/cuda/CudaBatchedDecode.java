package io.panllm.runtime.cuda;

import io.panllm.kernels.BatchedDecodeKernels;
import io.panllm.kernels.CudaContext;
import io.panllm.kernels.CudaStream;
import io.panllm.kernels.DecodeKernels;
import io.panllm.kernels.DecodeKernels.AttentionShape;
import io.panllm.kernels.DecodeKernels.RopePairs;
import io.panllm.kernels.DeviceBuffer;
import io.panllm.kernels.PinnedHostBuffer;
import io.panllm.runtime.Session;
import io.panllm.runtime.model.ModelConfig;
import io.panllm.runtime.model.RopeLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * One decode step of up to {@link #MAX_SEQUENCES} sequences at once, each with its own KV cache
 * and position: the tokens go through the layers as the rows of one batch (the matrix products
 * as in {@link CudaPrefill}: each weight matrix dequantized to fp16 once per step, then one cuBLAS
 * GEMM for all rows), while RoPE, the cache append and attention run per sequence in one launch
 * each ({@link BatchedDecodeKernels}: ragged lengths). The LM head runs in slices of rows that fit
 * the prefill's fp16 scratch matrix; greedy steps take each row's argmax on the device.
 *
 * <p>Uses the prefill's activation buffers (a step is a batch of at most MAX_SEQUENCES rows) and
 * owns what is per sequence: the KV tables (the caches' addresses per layer), the step inputs,
 * the attention partials, the logits and argmax slots.
 */
final class CudaBatchedDecode implements AutoCloseable {
    /** Sequences per step at most; more are run in groups of this many. */
    static final int MAX_SEQUENCES = 64;
    /**
     * Elements of a weight matrix converted to fp16 at a time (and of the LM head, whatever this
     * says, at most the prefill's scratch matrix). Slices small enough for the fp16 copy to stay in
     * the L2 cache did not pay on the H200: 8B Q4_0 at 16 sequences took 16.6 ms a step with 8M-element
     * slices, 12.6 ms with 32M and unsliced (run 2, NOTES.md).
     */
    static final long SLICE_ELEMENTS = Long.getLong("panllm.cuda.batchedSliceElements", 32L << 20);
    /** Batched steps run in this process (tests check that a batch took this path). */
    static final java.util.concurrent.atomic.AtomicLong STEPS = new java.util.concurrent.atomic.AtomicLong();

    private final ModelConfig config;
    private final DeviceWeights weights;
    private final CudaStream stream;
    private final CudaKernels kernels;
    private final CudaPrefill prefill;
    private final BatchedDecodeKernels batched;
    private final AttentionShape shape;
    private final int qkvWidth;
    private final int splits;
    private final List<DeviceMatrix> headSlices;
    /** Each layer's matrices in row slices of at most {@link #SLICE_ELEMENTS}. */
    private final List<CudaPrefill.Projections> projections = new ArrayList<>();
    private final DeviceBuffers allocations;
    private final List<PinnedHostBuffer> pinned = new ArrayList<>();

    /** Per layer: MAX_SEQUENCES entries of (key cache, value cache) addresses. */
    private final DeviceBuffer kvTables;
    /** token ids, then positions: MAX_SEQUENCES uint32 each. */
    private final DeviceBuffer stepInputs;
    private final DeviceBuffer partials;
    private final DeviceBuffer logits;
    private final DeviceBuffer argmax;
    private final PinnedHostBuffer hostKvTables;
    private final PinnedHostBuffer hostStepInputs;
    private final PinnedHostBuffer hostLogits;
    private final PinnedHostBuffer hostArgmax;
    /** The caches whose addresses kvTables holds, in order (the table is rewritten when they change). */
    private CudaKvCache[] tabled = new CudaKvCache[0];
    /** The step of the tabled caches as a CUDA graph (greedy or not), once captured; null before. */
    private io.panllm.kernels.CudaGraph graph;
    private boolean graphGreedy;
    /** Whether steps are captured as graphs (off for good after a capture failed). */
    private boolean graphs = !Boolean.getBoolean("panllm.cuda.batchedNoGraph");

    CudaBatchedDecode(ModelConfig config, DeviceWeights weights, CudaContext context, CudaStream stream, CudaKernels kernels,
            CudaPrefill prefill) {
        this.config = config;
        this.weights = weights;
        this.stream = stream;
        this.kernels = kernels;
        this.prefill = prefill;
        this.shape = CudaModel.attentionShape(config);
        this.qkvWidth = config.queryDim() + 2 * config.kvDim();
        // enough CTAs for two per SM when the batch is small; one per head and sequence when it is large
        int multiprocessors = context.device().multiprocessors();
        this.splits = Math.max(1, Math.min(64, (2 * multiprocessors + config.headCount() - 1) / config.headCount()));
        long sliceElements = Math.min(SLICE_ELEMENTS, prefill.scratchElements());
        this.headSlices = CudaPrefill.Projections.slices(List.of(weights.output), sliceElements);
        for (DeviceWeights.Layer layer : weights.layers) {
            projections.add(CudaPrefill.Projections.of(layer).sliced(sliceElements));
        }
        this.allocations = new DeviceBuffers(context);
        BatchedDecodeKernels loaded = new BatchedDecodeKernels(context);
        try {
            int layers = config.blockCount();
            kvTables = allocate(layers * MAX_SEQUENCES * BatchedDecodeKernels.KV_TABLE_ENTRY_BYTES);
            stepInputs = allocate(8L * MAX_SEQUENCES);
            partials = allocate(BatchedDecodeKernels.partialBytes(shape, splits, MAX_SEQUENCES));
            logits = allocate(4L * MAX_SEQUENCES * config.vocabSize());
            argmax = allocate(MAX_SEQUENCES * DecodeKernels.ARGMAX_BUFFER_BYTES);
            argmax.fillWords(0, stream); // the argmax kernel's completion counters start at zero
            hostKvTables = pin(kvTables.byteSize());
            hostStepInputs = pin(stepInputs.byteSize());
            hostLogits = pin(logits.byteSize());
            hostArgmax = pin(argmax.byteSize());
        } catch (RuntimeException e) {
            close(loaded);
            throw e;
        }
        this.batched = loaded;
    }

    private DeviceBuffer allocate(long bytes) {
        return allocations.allocate(bytes, "batched decoding of " + MAX_SEQUENCES + " sequences");
    }

    private PinnedHostBuffer pin(long bytes) {
        PinnedHostBuffer buffer = PinnedHostBuffer.allocate(bytes);
        pinned.add(buffer);
        return buffer;
    }

    /**
     * Runs one token of each sequence (at most {@link #MAX_SEQUENCES}): caches[i] takes tokens[i]
     * at positions[i]. {@code sink} null: returns each sequence's argmax; else hands it the
     * logits and returns null. The first step of a set of caches runs launch by launch; the
     * next ones capture it as a CUDA graph and replay that while the set stays the same (where
     * capturing fails, e.g. a cuBLAS that would allocate inside the capture, it stays launch by launch).
     */
    int[] step(CudaKvCache[] caches, int[] tokens, int[] positions, Session.LogitsSink sink) {
        int count = caches.length;
        if (count == 0 || count > MAX_SEQUENCES) {
            throw new IllegalArgumentException("a batched step takes 1 to " + MAX_SEQUENCES + " sequences, not " + count);
        }
        STEPS.incrementAndGet();
        stream.synchronize(); // the previous step's copies of the host buffers are done before they are rewritten
        boolean sameCaches = java.util.Arrays.equals(caches, tabled);
        if (!sameCaches) {
            writeKvTables(caches);
        }
        MemorySegment inputs = hostStepInputs.segment();
        for (int i = 0; i < count; i++) {
            inputs.setAtIndex(ValueLayout.JAVA_INT, i, tokens[i]);
            inputs.setAtIndex(ValueLayout.JAVA_INT, MAX_SEQUENCES + i, positions[i]);
        }
        stepInputs.copyFromAsync(inputs, stream);
        boolean greedy = sink == null;
        if (!sameCaches || graphGreedy != greedy) {
            dropGraph();
        }
        if (graph == null && sameCaches && graphs) {
            try {
                graph = stream.capture(() -> enqueueStep(count, greedy));
                graphGreedy = greedy;
            } catch (RuntimeException e) {
                graphs = false; // launch by launch from now on
            }
        }
        if (graph != null) {
            graph.launch(stream);
        } else {
            enqueueStep(count, greedy);
        }
        return greedy ? argmaxes(count) : emitLogits(count, sink);
    }

    /** The step's work on the stream: every layer over the batch's rows, the LM head, the argmaxes if greedy. */
    private void enqueueStep(int count, boolean greedy) {
        DeviceBuffer ids = stepInputs.slice(0, 4L * MAX_SEQUENCES);
        DeviceBuffer positionWords = stepInputs.slice(4L * MAX_SEQUENCES, 4L * MAX_SEQUENCES);
        prefill.embedRows(ids, count);
        RopePairs pairs = config.ropeLayout() == RopeLayout.ADJACENT_PAIRS ? RopePairs.ADJACENT : RopePairs.HALVES;
        long tableBytes = MAX_SEQUENCES * BatchedDecodeKernels.KV_TABLE_ENTRY_BYTES;
        for (int l = 0; l < weights.layers.size(); l++) {
            DeviceWeights.Layer layer = weights.layers.get(l);
            CudaPrefill.Projections matrices = projections.get(l);
            DeviceBuffer table = kvTables.slice(l * tableBytes, tableBytes);
            prefill.projectQkv(layer, matrices, count);
            batched.ropeAndStore(stream, shape, config.ropeDimensionCount(), pairs, prefill.qkv, qkvWidth, count, table,
                    positionWords, weights.ropeInverseFrequencies);
            batched.attention(stream, shape, splits, prefill.qkv, qkvWidth, count, table, positionWords, partials,
                    prefill.attention);
            prefill.projectAttentionOutput(matrices, count);
            prefill.feedForwardBlock(layer, matrices, count);
        }
        prefill.normalizeToHalf(weights.outputNorm, count);
        prefill.linear(headSlices, prefill.half, count, logits, config.vocabSize());
        if (greedy) {
            int vocab = config.vocabSize();
            long slot = DecodeKernels.ARGMAX_BUFFER_BYTES;
            for (int i = 0; i < count; i++) {
                kernels.decode().argmax(stream, logits.slice(4L * i * vocab, 4L * vocab), vocab, argmax.slice(i * slot, slot));
            }
        }
    }

    private void dropGraph() {
        if (graph != null) {
            graph.close();
            graph = null;
        }
    }

    /** Copies back the argmaxes the step computed. */
    private int[] argmaxes(int count) {
        long slot = DecodeKernels.ARGMAX_BUFFER_BYTES;
        argmax.slice(0, count * slot).copyToAsync(hostArgmax.segment().asSlice(0, count * slot), stream);
        stream.synchronize();
        int[] next = new int[count];
        for (int i = 0; i < count; i++) {
            next[i] = hostArgmax.segment().get(ValueLayout.JAVA_INT, i * slot);
        }
        return next;
    }

    private int[] emitLogits(int count, Session.LogitsSink sink) {
        int vocab = config.vocabSize();
        long bytes = 4L * count * vocab;
        logits.slice(0, bytes).copyToAsync(hostLogits.segment().asSlice(0, bytes), stream);
        stream.synchronize();
        float[] row = new float[vocab];
        for (int i = 0; i < count; i++) {
            MemorySegment.copy(hostLogits.segment(), ValueLayout.JAVA_FLOAT, 4L * i * vocab, row, 0, vocab);
            sink.accept(i, row);
        }
        return null;
    }

    /** Writes the addresses of the caches into the KV tables (the stream is idle). */
    private void writeKvTables(CudaKvCache[] caches) {
        MemorySegment table = hostKvTables.segment();
        long entry = BatchedDecodeKernels.KV_TABLE_ENTRY_BYTES;
        for (int l = 0; l < config.blockCount(); l++) {
            for (int i = 0; i < caches.length; i++) {
                long at = (l * (long) MAX_SEQUENCES + i) * entry;
                table.set(ValueLayout.JAVA_LONG, at, caches[i].keys[l].address());
                table.set(ValueLayout.JAVA_LONG, at + 8, caches[i].values[l].address());
            }
        }
        kvTables.copyFromAsync(table, stream);
        tabled = caches.clone();
    }

    @Override
    public void close() {
        dropGraph();
        close(batched);
    }

    private void close(BatchedDecodeKernels loaded) {
        for (PinnedHostBuffer buffer : pinned) {
            buffer.close();
        }
        pinned.clear();
        allocations.close();
        if (loaded != null) {
            loaded.close();
        }
    }
}
