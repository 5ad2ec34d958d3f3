package io.panllm.kernels;

import java.lang.foreign.Arena;

/**
 * The kernels of a batched forward pass over many tokens (prefill.ptx), around cuBLAS matrix
 * products on fp16 operands: dequantization of a whole weight matrix to row-major fp16,
 * float32-to-fp16 conversion of activations, SwiGLU over rows of gate|up with fp16 output, a
 * bias added to every row, RoPE with the KV-cache store for a batch of consecutive positions,
 * and causal attention of a batch over the cache. Activations are row-major {@code [tokens][width]}.
 * Launches go onto the caller's stream.
 */
public final class PrefillKernels implements AutoCloseable {
    /** Warps per CTA of the attention kernel, one (token, head) each. */
    private static final int ATTENTION_WARPS_PER_CTA = 4;
    private static final int THREADS = 256;

    private final CudaModule module;
    private final CudaKernel embedRows;
    private final CudaKernel dequantQ4_0;
    private final CudaKernel dequantQ8_0;
    private final CudaKernel dequantInt8;
    /** The other formats' dequantization, generated with their GEMVs (gemv_formats.ptx). */
    private final java.util.Map<WeightFormat, CudaKernel> dequantFormats = new java.util.EnumMap<>(WeightFormat.class);
    private final CudaKernel convertF32;
    private final CudaKernel swigluRows;
    private final CudaKernel addRows;
    private final CudaKernel ropeStoreKvRows;
    private final CudaKernel attention;
    private final CudaKernel causalSoftmax;
    private final int maxBlocks;

    /** Loads the prefill module into the current context. */
    public PrefillKernels(CudaContext context) {
        this.module = context.loadModule("io/panllm/kernels/common.ptx", "io/panllm/kernels/prefill.ptx",
                "io/panllm/kernels/gemv_formats.ptx", "io/panllm/kernels/gemv_int8.ptx");
        this.embedRows = module.kernel("embed_rows");
        this.dequantQ4_0 = module.kernel("dequant_q4_0_f16");
        this.dequantQ8_0 = module.kernel("dequant_q8_0_f16");
        this.dequantInt8 = module.kernel("dequant_i8_f16");
        for (WeightFormat format : DEQUANTIZED_BY_CHUNKS) {
            dequantFormats.put(format, module.kernel("dequant_" + format.name().toLowerCase(java.util.Locale.ROOT) + "_f16"));
        }
        this.convertF32 = module.kernel("convert_f32_f16");
        this.swigluRows = module.kernel("swiglu_rows_f16");
        this.addRows = module.kernel("add_rows_f32");
        this.ropeStoreKvRows = module.kernel("rope_store_kv_rows");
        this.attention = module.kernel("attention_prefill");
        this.causalSoftmax = module.kernel("causal_softmax_rows");
        this.maxBlocks = context.device().multiprocessors() * 16;
    }

    /**
     * {@code out[i] = row tokens[i] of table} dequantized to float32, for {@code count} token ids
     * (uint32 in device memory), rows of {@code cols} in {@code format}. Ids are not checked
     * against the table: the caller validates them (the tokenizer's ids).
     */
    public void embedRows(CudaStream stream, DecodeKernels.RowFormat format, DeviceBuffer table, DeviceBuffer tokens,
                          int count, DeviceBuffer out, int cols) {
        checkBatch(count);
        int code = switch (format) { // the format numbers of embed_rows
            case F32 -> 0;
            case F16 -> 1;
            case Q8_0 -> 2;
            case Q4_0 -> 3;
            default -> throw new IllegalArgumentException("embedRows has no kernel for " + format + " rows");
        };
        long rowBytes = format.rowBytes(cols);
        table.requireAtLeast(rowBytes, "embedding table");
        tokens.requireAtLeast(4L * count, "token ids");
        out.requireAtLeast(4L * count * cols, "embeddings out");
        int blocks = Math.max(1, Math.min(64, (cols + THREADS - 1) / THREADS));
        try (Arena arena = Arena.ofConfined()) {
            embedRows.launch(stream, new LaunchShape(blocks, count, 1, THREADS, 1, 1, 0), new KernelArgs(arena)
                    .pointer(out).pointer(table).pointer(tokens).i32(cols).i32(Math.toIntExact(rowBytes))
                    .i32(code));
        }
    }

    /** Formats whose dequantization runs one thread per chunk of 8 weights (gemv_formats.ptx). */
    private static final java.util.Set<WeightFormat> DEQUANTIZED_BY_CHUNKS = java.util.EnumSet.of(WeightFormat.BF16,
            WeightFormat.IQ4_NL, WeightFormat.Q4_K, WeightFormat.Q5_K, WeightFormat.Q6_K, WeightFormat.NF4, WeightFormat.FP4);

    /**
     * {@code out} (rows x cols fp16, row-major) = the matrix {@code weights} in {@code format}
     * (GGUF blocks) dequantized; every format but F16 (which needs no conversion).
     */
    public void dequantize(CudaStream stream, WeightFormat format, DeviceBuffer weights, DeviceBuffer out, int rows,
                           int cols) {
        if (format == WeightFormat.F16) {
            throw new IllegalArgumentException("F16 weights are used as stored, not dequantized");
        }
        if (rows <= 0) {
            throw new IllegalArgumentException("dequantize " + rows + " rows");
        }
        weights.requireAtLeast(format.matrixBytes(rows, cols), "weights of " + rows + "x" + cols + " " + format);
        out.requireAtLeast(2L * rows * cols, "dequantized fp16 out");
        CudaKernel chunked = dequantFormats.get(format);
        if (chunked != null) {
            long chunks = (long) rows * cols / 8;
            if (chunks > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("matrix of " + rows + "x" + cols + " too large to dequantize at once");
            }
            try (Arena arena = Arena.ofConfined()) {
                chunked.launch(stream, elementwise((int) chunks),
                        new KernelArgs(arena).pointer(out).pointer(weights).i32(rows).i32(cols));
            }
            return;
        }
        CudaKernel kernel = format == WeightFormat.Q4_0 ? dequantQ4_0 : dequantQ8_0;
        long blocks = (long) rows * cols / format.blockSize;
        if (blocks * 4 > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("matrix of " + rows + "x" + cols + " too large to dequantize at once");
        }
        try (Arena arena = Arena.ofConfined()) {
            kernel.launch(stream, elementwise(blocks * 4), new KernelArgs(arena).pointer(out).pointer(weights).i32((int) blocks));
        }
    }

    /**
     * {@code out} (rows x cols fp16, row-major) = LLM.int8 weights dequantized: int8 codes
     * [rows][cols] times {@code rowScales[r]} (SCB / 127 of each row, float32). cols a multiple of 4.
     */
    public void dequantizeInt8(CudaStream stream, DeviceBuffer weights, DeviceBuffer rowScales, DeviceBuffer out, int rows,
                               int cols) {
        if (rows <= 0 || cols <= 0 || cols % 4 != 0) {
            throw new IllegalArgumentException("INT8 dequantize needs rows > 0 and a positive multiple of 4 columns, got "
                    + rows + "x" + cols);
        }
        weights.requireAtLeast((long) rows * cols, "INT8 weights of " + rows + "x" + cols);
        rowScales.requireAtLeast(4L * rows, "row scales");
        out.requireAtLeast(2L * rows * cols, "dequantized fp16 out");
        long quads = (long) rows * cols / 4;
        if (quads > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("matrix of " + rows + "x" + cols + " too large to dequantize at once");
        }
        try (Arena arena = Arena.ofConfined()) {
            dequantInt8.launch(stream, elementwise((int) quads),
                    new KernelArgs(arena).pointer(out).pointer(weights).pointer(rowScales).i32(rows).i32(cols));
        }
    }

    /** {@code out[i] = (fp16) in[i]}, i < n (round to nearest even; beyond 65504 becomes infinity). */
    public void toHalf(CudaStream stream, DeviceBuffer in, DeviceBuffer out, int n) {
        in.requireAtLeast(4L * n, "toHalf in");
        out.requireAtLeast(2L * n, "toHalf out");
        try (Arena arena = Arena.ofConfined()) {
            convertF32.launch(stream, elementwise(n), new KernelArgs(arena).pointer(out).pointer(in).i32(n));
        }
    }

    /**
     * {@code out[t][i] = (fp16) silu(gateUp[t][i]) * gateUp[t][ff + i]} for {@code rows} rows of
     * 2 ff floats (gate, then up).
     */
    public void swigluRows(CudaStream stream, DeviceBuffer gateUp, DeviceBuffer out, int rows, int ff) {
        gateUp.requireAtLeast(8L * rows * ff, "swiglu gate|up");
        out.requireAtLeast(2L * rows * ff, "swiglu out");
        try (Arena arena = Arena.ofConfined()) {
            swigluRows.launch(stream, elementwise((long) rows * ff),
                    new KernelArgs(arena).pointer(out).pointer(gateUp).i32(rows).i32(ff));
        }
    }

    /** {@code x[t * stride + i] += bias[i]} for t < rows, i < width. */
    public void addToRows(CudaStream stream, DeviceBuffer x, DeviceBuffer bias, int rows, int width, int stride) {
        if (width > stride) {
            throw new IllegalArgumentException("rows of " + width + " floats with a stride of " + stride);
        }
        x.requireAtLeast(4L * ((long) (rows - 1) * stride + width), "addToRows x");
        bias.requireAtLeast(4L * width, "addToRows bias");
        try (Arena arena = Arena.ofConfined()) {
            addRows.launch(stream, elementwise((long) rows * width),
                    new KernelArgs(arena).pointer(x).pointer(bias).i32(rows).i32(width).i32(stride));
        }
    }

    /**
     * For each of {@code tokens} rows of {@code qkv} (q of {@code shape.queryDim()} floats, then
     * k and v of {@code shape.kvDim()}): RoPE on q (in place) and k at position
     * {@code startPosition + row}, then k and v stored into that row of the caches. As
     * {@link DecodeKernels#ropeAndStore} for one token.
     */
    public void ropeAndStore(CudaStream stream, DecodeKernels.AttentionShape shape, int ropeDim,
                             DecodeKernels.RopePairs pairs, DeviceBuffer qkv, int tokens, int startPosition,
                             DeviceBuffer keyCache, DeviceBuffer valueCache, DeviceBuffer inverseFrequencies) {
        if (ropeDim <= 0 || ropeDim > shape.headDim() || ropeDim % 2 != 0) {
            throw new IllegalArgumentException("rope dimension " + ropeDim + " must be even and at most " + shape.headDim());
        }
        checkBatch(tokens);
        int width = shape.queryDim() + 2 * shape.kvDim();
        qkv.requireAtLeast(4L * tokens * width, "rope q|k|v");
        long cacheBytes = 4L * (startPosition + (long) tokens) * shape.kvDim();
        keyCache.requireAtLeast(cacheBytes, "key cache");
        valueCache.requireAtLeast(cacheBytes, "value cache");
        inverseFrequencies.requireAtLeast(8L * ropeDim / 2, "rope inverse frequencies");
        int blocks = Math.max(1, Math.min(64, (width + THREADS - 1) / THREADS));
        try (Arena arena = Arena.ofConfined()) {
            ropeStoreKvRows.launch(stream, new LaunchShape(blocks, tokens, 1, THREADS, 1, 1, 0), new KernelArgs(arena)
                    .pointer(qkv).pointer(keyCache).pointer(valueCache).pointer(inverseFrequencies).i32(startPosition)
                    .i32(shape.heads()).i32(shape.kvHeads()).i32(shape.headDim()).i32(ropeDim)
                    .i32(pairs == DecodeKernels.RopePairs.HALVES ? 1 : 0));
        }
    }

    /**
     * {@code out[t][h] = softmax(q[t][h] . K / sqrt(headDim)) V} over cache positions 0 ..
     * startPosition + t, for the {@code tokens} rows of {@code qkv} (q is the first
     * {@code shape.queryDim()} floats of each row of {@code qkvStride}); out is
     * {@code [tokens][queryDim]} float32.
     */
    public void attention(CudaStream stream, DecodeKernels.AttentionShape shape, DeviceBuffer qkv, int qkvStride,
                          int tokens, int startPosition, DeviceBuffer keyCache, DeviceBuffer valueCache, DeviceBuffer out) {
        checkBatch(tokens);
        qkv.requireAtLeast(4L * ((long) (tokens - 1) * qkvStride + shape.queryDim()), "attention q");
        long cacheBytes = 4L * (startPosition + (long) tokens) * shape.kvDim();
        keyCache.requireAtLeast(cacheBytes, "key cache");
        valueCache.requireAtLeast(cacheBytes, "value cache");
        out.requireAtLeast(4L * tokens * shape.queryDim(), "attention out");
        float scaleLog2 = (float) (1.0 / Math.sqrt(shape.headDim()) / Math.log(2.0));
        long warps = (long) tokens * shape.heads();
        int blocks = Math.toIntExact((warps + ATTENTION_WARPS_PER_CTA - 1) / ATTENTION_WARPS_PER_CTA);
        try (Arena arena = Arena.ofConfined()) {
            attention.launch(stream, LaunchShape.of(blocks, 32 * ATTENTION_WARPS_PER_CTA), new KernelArgs(arena)
                    .pointer(out).pointer(qkv).pointer(keyCache).pointer(valueCache).i32(startPosition).i32(tokens)
                    .i32(shape.heads()).i32(shape.headDim()).i32(shape.kvDim()).i32(shape.heads() / shape.kvHeads())
                    .i32(qkvStride).f32(scaleLog2));
        }
    }

    /**
     * In place, for each of {@code heads * tokens} rows of {@code positions} attention scores
     * (q . k, unscaled; row r belongs to query token r % tokens): the softmax of score / sqrt(headDim)
     * over positions 0 .. startPosition + token, zeros after them (the causal mask).
     */
    public void causalSoftmax(CudaStream stream, DeviceBuffer scores, int heads, int tokens, int positions,
                              int startPosition, int headDim) {
        checkBatch(tokens);
        if (startPosition + tokens > positions) {
            throw new IllegalArgumentException("rows of " + positions + " scores cannot hold positions up to "
                    + (startPosition + tokens));
        }
        long rows = (long) heads * tokens;
        scores.requireAtLeast(4L * rows * positions, "attention scores");
        float scaleLog2 = (float) (1.0 / Math.sqrt(headDim) / Math.log(2.0));
        try (Arena arena = Arena.ofConfined()) {
            causalSoftmax.launch(stream, LaunchShape.of(Math.toIntExact((rows + 3) / 4), 128), new KernelArgs(arena)
                    .pointer(scores).i32((int) rows).i32(tokens).i32(positions).i32(startPosition).f32(scaleLog2));
        }
    }

    private static void checkBatch(int tokens) {
        if (tokens <= 0 || tokens > 65535) {
            throw new IllegalArgumentException("a batch of " + tokens + " tokens (1 to 65535)");
        }
    }

    private LaunchShape elementwise(long n) {
        return LaunchShape.of((int) Math.max(1, Math.min(maxBlocks, (n + THREADS - 1) / THREADS)), THREADS);
    }

    @Override
    public void close() {
        module.close();
    }
}
