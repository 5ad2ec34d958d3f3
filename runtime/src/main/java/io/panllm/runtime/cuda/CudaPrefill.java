package io.panllm.runtime.cuda;

import io.panllm.kernels.Cublas;
import io.panllm.kernels.CudaContext;
import io.panllm.kernels.CudaStream;
import io.panllm.kernels.DecodeKernels.AttentionShape;
import io.panllm.kernels.DecodeKernels.RopePairs;
import io.panllm.kernels.DeviceBuffer;
import io.panllm.kernels.PrefillKernels;
import io.panllm.kernels.WeightFormat;
import io.panllm.runtime.model.ModelConfig;
import io.panllm.runtime.model.RopeLayout;
import io.panllm.tensor.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * The forward pass over a batch of prompt tokens at once: activations {@code [tokens][width]},
 * each weight matrix dequantized to fp16 into one reused scratch buffer right before its cuBLAS
 * GEMM (fp16 operands, fp32 accumulation and output), norms, RoPE, attention and the residual
 * stream in fp32. Fills the KV cache like token-by-token decoding does; the logits are left to
 * the decode path's head graph (final norm and LM head GEMV), one residual row at a time.
 *
 * <p>Batches of up to {@link #MAX_BATCH} tokens; longer prompts run batch after batch (the
 * attention of a batch reads the positions of the earlier ones from the cache). Device memory
 * is allocated on construction and held until {@link #close()}.
 */
final class CudaPrefill implements AutoCloseable {
    /** Tokens per batch at most: bounds the activation buffers (about 50 MB for a 1B model). */
    static final int MAX_BATCH = 512;
    /**
     * Prompts from this many tokens on take the batched path; shorter ones (a chat turn's few
     * tokens) replay the decode graph, which keeps fp32 operands throughout.
     */
    static final int MIN_TOKENS = Integer.getInteger("panllm.cuda.prefillMinTokens", 8);
    /** Attention scores of a batch at most (heads x tokens x positions floats), else the warp kernel. */
    static final long MAX_SCORE_BYTES = Long.getLong("panllm.cuda.prefillMaxScoreBytes", 1L << 30);

    private final ModelConfig config;
    private final DeviceWeights weights;
    private final CudaStream stream;
    private final CudaKernels kernels;
    private final PrefillKernels prefill;
    private final Cublas cublas;
    private final AttentionShape shape;
    private final int qkvWidth;
    private final DeviceBuffers allocations;
    /** Attention scores, [heads][tokens][positions]; sized by the longest batch so far. */
    private DeviceBuffer scores;

    private final DeviceBuffer tokenIds;
    final DeviceBuffer residual;
    final DeviceBuffer normed;
    /** fp16 input of the next GEMM: normed rows or attention output, [tokens][max(dim, queryDim)]. */
    final DeviceBuffer half;
    final DeviceBuffer qkv;
    final DeviceBuffer attention;
    private final DeviceBuffer projected;
    private final DeviceBuffer gateUp;
    private final DeviceBuffer hidden;
    /** One weight matrix as fp16 (the largest of a layer's that is not stored as F16). */
    private final DeviceBuffer matrix;

    /**
     * A layer's matrices as the products take them, each a list of matrices whose outputs go
     * side by side: as stored ({@link #of}), or cut into row slices ({@link #sliced}).
     */
    record Projections(List<DeviceMatrix> qkv, List<DeviceMatrix> attentionOutput, List<DeviceMatrix> gateUp,
            List<DeviceMatrix> ffnDown) {

        static Projections of(DeviceWeights.Layer layer) {
            return new Projections(layer.qkv(), List.of(layer.attentionOutput()), layer.gateUp(), List.of(layer.ffnDown()));
        }

        /**
         * Every matrix not stored as F16 in slices of rows of at most {@code maxElements}: the fp16
         * copy of a slice can still be in the L2 cache when its GEMM reads it (few activation
         * rows: the conversion's traffic, not the GEMM, is the cost).
         */
        Projections sliced(long maxElements) {
            return new Projections(slices(qkv, maxElements), slices(attentionOutput, maxElements), slices(gateUp, maxElements),
                    slices(ffnDown, maxElements));
        }

        static List<DeviceMatrix> slices(List<DeviceMatrix> matrices, long maxElements) {
            List<DeviceMatrix> out = new ArrayList<>();
            for (DeviceMatrix m : matrices) {
                if (m.type == GgmlType.F16) {
                    out.add(m);
                    continue;
                }
                int rowsPerSlice = (int) Math.max(1, Math.min(m.rows, maxElements / m.cols));
                for (int first = 0; first < m.rows; first += rowsPerSlice) {
                    out.add(rowsPerSlice >= m.rows ? m : m.rows(first, Math.min(rowsPerSlice, m.rows - first)));
                }
            }
            return List.copyOf(out);
        }
    }

    /** The layers' matrices as stored. */
    private final List<Projections> projections = new ArrayList<>();

    /** Whether a prompt of {@code tokens} tokens takes the batched path for this model. */
    static boolean takes(ModelConfig config, int tokens) {
        return tokens >= MIN_TOKENS && config.embeddingLength() % 4 == 0;
    }

    CudaPrefill(ModelConfig config, DeviceWeights weights, CudaContext context, CudaStream stream, CudaKernels kernels) {
        this.config = config;
        this.weights = weights;
        this.stream = stream;
        this.kernels = kernels;
        this.allocations = new DeviceBuffers(context);
        this.shape = CudaModel.attentionShape(config);
        this.qkvWidth = config.queryDim() + 2 * config.kvDim();
        for (DeviceWeights.Layer layer : weights.layers) {
            projections.add(Projections.of(layer));
        }
        int dim = config.embeddingLength();
        int ff = config.feedForwardLength();
        PrefillKernels loadedKernels = null;
        Cublas handle = null;
        try {
            loadedKernels = new PrefillKernels(context);
            handle = Cublas.create(stream);
            tokenIds = allocate(4L * MAX_BATCH);
            residual = allocate(4L * MAX_BATCH * dim);
            normed = allocate(4L * MAX_BATCH * dim);
            half = allocate(2L * MAX_BATCH * Math.max(dim, config.queryDim()));
            qkv = allocate(4L * MAX_BATCH * qkvWidth);
            attention = allocate(4L * MAX_BATCH * config.queryDim());
            projected = allocate(4L * MAX_BATCH * dim);
            gateUp = allocate(8L * MAX_BATCH * ff);
            hidden = allocate(2L * MAX_BATCH * ff);
            matrix = allocate(Math.max(2, 2 * largestConvertedMatrix(weights)));
        } catch (RuntimeException e) {
            if (handle != null) {
                handle.close();
            }
            if (loadedKernels != null) {
                loadedKernels.close();
            }
            allocations.close();
            throw e;
        }
        this.prefill = loadedKernels;
        this.cublas = handle;
    }

    /** Elements the fp16 scratch matrix holds: a matrix converted for {@link #linear} must not have more. */
    long scratchElements() {
        return matrix.byteSize() / 2;
    }

    /** Elements of the largest layer matrix that needs converting to fp16 (everything but F16). */
    private static long largestConvertedMatrix(DeviceWeights weights) {
        long largest = 0;
        for (DeviceWeights.Layer layer : weights.layers) {
            List<DeviceMatrix> all = new ArrayList<>(layer.qkv());
            all.addAll(layer.gateUp());
            all.add(layer.attentionOutput());
            all.add(layer.ffnDown());
            for (DeviceMatrix m : all) {
                if (m.type != GgmlType.F16) {
                    largest = Math.max(largest, (long) m.rows * m.cols);
                }
            }
        }
        return largest;
    }

    private DeviceBuffer allocate(long bytes) {
        return allocations.allocate(bytes, "batched prompt processing");
    }

    /**
     * Runs {@code tokens} at positions {@code startPosition}.. through every layer, filling the
     * cache. For each token whose logits are wanted (every one if {@code allRows}, else only the
     * last), copies its residual row into {@code kv.residual} and calls {@code rowReady} with its
     * index in {@code tokens}; when it returns, {@code kv.residual} holds the last token's row.
     */
    void run(CudaKvCache kv, int[] tokens, int startPosition, boolean allRows, IntConsumer rowReady) {
        int dim = config.embeddingLength();
        for (int first = 0; first < tokens.length; first += MAX_BATCH) {
            int count = Math.min(MAX_BATCH, tokens.length - first);
            embed(tokens, first, count);
            for (int l = 0; l < weights.layers.size(); l++) {
                DeviceWeights.Layer layer = weights.layers.get(l);
                attentionBlock(kv, layer, projections.get(l), l, count, startPosition + first);
                feedForwardBlock(layer, projections.get(l), count);
            }
            for (int i = 0; i < count; i++) {
                boolean last = first + i == tokens.length - 1;
                if (allRows || last) {
                    kv.residual.copyFromAsync(residual.slice(4L * i * dim, 4L * dim), stream);
                    rowReady.accept(first + i);
                }
            }
        }
    }

    /** Rows 0 .. count of the residual stream = the embeddings of the token ids in {@code ids} (device memory). */
    void embedRows(DeviceBuffer ids, int count) {
        DeviceMatrix table = weights.tokenEmbedding;
        prefill.embedRows(stream, DeviceMatrix.rowFormat(table.type), table.data, ids, count, residual, table.cols);
    }

    /** Row i of the residual stream = the embedding of tokens[first + i]. */
    private void embed(int[] tokens, int first, int count) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ids = arena.allocateFrom(ValueLayout.JAVA_INT, Arrays.copyOfRange(tokens, first,
                    first + count));
            tokenIds.copyFrom(ids, stream); // waits for the stream: the previous batch's use of tokenIds is over
        }
        embedRows(tokenIds, count);
    }

    private void attentionBlock(CudaKvCache kv, DeviceWeights.Layer layer, Projections matrices, int l, int count,
            int startPosition) {
        projectQkv(layer, matrices, count);
        RopePairs pairs = config.ropeLayout() == RopeLayout.ADJACENT_PAIRS ? RopePairs.ADJACENT : RopePairs.HALVES;
        prefill.ropeAndStore(stream, shape, config.ropeDimensionCount(), pairs, qkv, count, startPosition, kv.keys[l],
                kv.values[l], weights.ropeInverseFrequencies);
        attend(kv, l, count, startPosition);
        projectAttentionOutput(matrices, count);
    }

    /** {@code qkv} rows = q|k|v (with biases) of the attention norm of the first {@code count} residual rows. */
    void projectQkv(DeviceWeights.Layer layer, Projections matrices, int count) {
        int queryDim = config.queryDim();
        int kvDim = config.kvDim();
        normalizeToHalf(layer.attentionNorm(), count);
        linear(matrices.qkv(), half, count, qkv, qkvWidth);
        addBias(qkv, layer.queryBias(), count, queryDim);
        addBias(qkv.slice(4L * queryDim, qkv.byteSize() - 4L * queryDim), layer.keyBias(), count, kvDim);
        addBias(qkv.slice(4L * (queryDim + kvDim), qkv.byteSize() - 4L * (queryDim + kvDim)), layer.valueBias(), count,
                kvDim);
    }

    /** residual rows += the output projection of the {@code attention} rows. */
    void projectAttentionOutput(Projections matrices, int count) {
        int dim = config.embeddingLength();
        prefill.toHalf(stream, attention, half, count * config.queryDim());
        linear(matrices.attentionOutput(), half, count, projected, dim);
        kernels.layer().add(stream, residual, projected, count * dim);
    }

    /**
     * {@code attention} = causal attention of the batch's queries over the cache, as two cuBLAS
     * products in fp32 around a softmax kernel: S = Q K^T for every head (the query heads of a
     * KV group j-th in their group batched over the groups, one strided call per j), the causal
     * softmax of S / sqrt(headDim) in place, then O = P V. The score matrices take heads x tokens
     * x positions floats; where that would exceed {@link #MAX_SCORE_BYTES} (long contexts) the
     * one-warp-per-query kernel runs instead.
     */
    private void attend(CudaKvCache kv, int l, int count, int startPosition) {
        int positions = startPosition + count;
        int heads = config.headCount();
        long scoreBytes = 4L * heads * count * positions;
        if (scoreBytes > MAX_SCORE_BYTES) {
            prefill.attention(stream, shape, qkv, qkvWidth, count, startPosition, kv.keys[l], kv.values[l], attention);
            return;
        }
        DeviceBuffer scores = scores(scoreBytes);
        int headDim = config.headDim();
        int group = heads / config.headCountKv();
        int kvHeads = config.headCountKv();
        long headScores = (long) count * positions; // floats of one head's scores
        for (int j = 0; j < group; j++) {
            // S_h^T (positions x count, column-major) = K_g . Q_h^T, for h = g group + j over the KV heads g
            cublas.gemmStridedBatched(Cublas.Operation.T, Cublas.Operation.N, positions, count, headDim,
                    1f, kv.keys[l], Cublas.DataType.F32, config.kvDim(), headDim,
                    tail(qkv, 4L * j * headDim), Cublas.DataType.F32, qkvWidth, (long) group * headDim,
                    0f, tail(scores, 4L * j * headScores), Cublas.DataType.F32, positions, group * headScores, kvHeads);
        }
        prefill.causalSoftmax(stream, scores, heads, count, positions, startPosition, headDim);
        for (int j = 0; j < group; j++) {
            // O_h^T (headDim x count, rows of queryDim) = V_g^T . P_h^T
            cublas.gemmStridedBatched(Cublas.Operation.N, Cublas.Operation.N, headDim, count, positions,
                    1f, kv.values[l], Cublas.DataType.F32, config.kvDim(), headDim,
                    tail(scores, 4L * j * headScores), Cublas.DataType.F32, positions, group * headScores,
                    0f, tail(attention, 4L * j * headDim), Cublas.DataType.F32, config.queryDim(), (long) group * headDim,
                    kvHeads);
        }
    }

    /** The scores buffer, reallocated when a batch needs more than it holds. */
    private DeviceBuffer scores(long bytes) {
        if (scores == null || scores.byteSize() < bytes) {
            if (scores != null) {
                allocations.free(scores);
                scores = null;
            }
            scores = allocate(bytes);
        }
        return scores;
    }

    private static DeviceBuffer tail(DeviceBuffer buffer, long offset) {
        return buffer.slice(offset, buffer.byteSize() - offset);
    }

    void feedForwardBlock(DeviceWeights.Layer layer, Projections matrices, int count) {
        int dim = config.embeddingLength();
        int ff = config.feedForwardLength();
        normalizeToHalf(layer.ffnNorm(), count);
        linear(matrices.gateUp(), half, count, gateUp, 2 * ff);
        prefill.swigluRows(stream, gateUp, hidden, count, ff);
        linear(matrices.ffnDown(), hidden, count, projected, dim);
        kernels.layer().add(stream, residual, projected, count * dim);
    }

    /** {@code half} = RMSNorm of each residual row, as fp16 for the next GEMM. */
    void normalizeToHalf(DeviceBuffer weight, int count) {
        int dim = config.embeddingLength();
        kernels.layer().rmsNorm(stream, normed, residual, weight, count, dim, config.rmsNormEps());
        prefill.toHalf(stream, normed, half, count * dim);
    }

    private void addBias(DeviceBuffer rows, DeviceBuffer bias, int count, int width) {
        if (bias != null) {
            prefill.addToRows(stream, rows, bias, count, width, qkvWidth);
        }
    }

    /**
     * {@code out[t][offset_m + r] = sum_c input[t][c] m[r][c]} for each matrix m in turn, their
     * outputs side by side in rows of {@code outWidth} floats (stacked Q|K|V, gate|up).
     */
    void linear(List<DeviceMatrix> matrices, DeviceBuffer input, int count, DeviceBuffer out, int outWidth) {
        long offset = 0;
        for (DeviceMatrix m : matrices) {
            DeviceBuffer halfWeights = asHalf(m);
            // column-major: out^T (rows x count, leading dimension outWidth) = W (rows x cols) . input^T
            cublas.gemm(Cublas.Operation.T, Cublas.Operation.N, m.rows, count, m.cols,
                    1f, halfWeights, Cublas.DataType.F16, m.cols, input, Cublas.DataType.F16, m.cols,
                    0f, out.slice(offset, out.byteSize() - offset), Cublas.DataType.F32, outWidth);
            offset += 4L * m.rows;
        }
    }

    /** The matrix as row-major fp16: F16 as stored, anything else converted into the scratch buffer. */
    private DeviceBuffer asHalf(DeviceMatrix m) {
        if (m.type == GgmlType.F16) {
            return m.data;
        }
        if (m.type == GgmlType.I8) {
            prefill.dequantizeInt8(stream, m.data, m.rowScales, matrix, m.rows, m.cols);
            return matrix;
        }
        WeightFormat format = halfFormat(m);
        int elements = Math.toIntExact((long) m.rows * m.cols);
        if (format == null) { // F32
            prefill.toHalf(stream, m.data, matrix, elements);
        } else {
            prefill.dequantize(stream, format, m.data, matrix, m.rows, m.cols);
        }
        return matrix;
    }

    /** The block format to dequantize from, null for F32 (converted) and F16 (used as is). */
    private static WeightFormat halfFormat(DeviceMatrix m) {
        if (m.type == GgmlType.F32) {
            return null;
        }
        WeightFormat format = DeviceMatrix.blockFormat(m.type);
        if (format == null) {
            throw new IllegalStateException(m.type + " has no fp16 conversion for the prefill");
        }
        return format;
    }

    @Override
    public void close() {
        cublas.close();
        prefill.close();
        allocations.close();
    }
}
