package io.panllm.kernels;

import java.lang.foreign.Arena;

/**
 * The kernels of a decode step besides the GEMVs and the element-wise layer ops (decode.ptx):
 * embedding lookup, GEMV for matrices whose rows the block-layout GEMVs cannot take, RoPE with
 * the KV-cache append, attention of one query over the cache, and argmax. Inputs that change
 * from step to step (the token id, the position) are read from device memory, so one captured
 * graph replays for every step. Launches go onto the caller's stream.
 */
public final class DecodeKernels implements AutoCloseable {
    /** Warps per CTA of the attention kernel; each warp takes every (warps x splits)-th position. */
    public static final int ATTENTION_WARPS_PER_CTA = 4;
    /** The attention kernels hold one head in a warp, 4 elements per lane. */
    public static final int MAX_HEAD_DIM = 128;

    private static final int THREADS = 256;
    private static final int ROWDOT_ROWS_PER_CTA = 8;

    /** The row layouts the embedding lookup and the any-width GEMV read (GGUF block layouts). */
    public enum RowFormat {
        F32(1, 4), F16(1, 2),
        /** fp16 d, then 32 int8 q: weight = d * q. */
        Q8_0(32, 34),
        /** fp16 d, then 16 bytes of 4-bit q (element j: low nibble of byte j, then high nibbles): d * (q - 8). */
        Q4_0(32, 18);

        public final int blockSize;
        public final int blockBytes;

        RowFormat(int blockSize, int blockBytes) {
            this.blockSize = blockSize;
            this.blockBytes = blockBytes;
        }

        /** Bytes of one row of {@code cols} elements; cols must be a multiple of the block size. */
        public long rowBytes(int cols) {
            return WeightFormat.rowBytes(name(), blockSize, blockBytes, cols);
        }
    }

    /** Which elements of a head RoPE rotates together. */
    public enum RopePairs {
        /** (2i, 2i + 1): llama.cpp's NORM rope, the layout of llama GGUFs. */
        ADJACENT,
        /** (i, i + ropeDim / 2): llama.cpp's NEOX rope (qwen2). */
        HALVES
    }

    private final CudaModule module;
    private final CudaKernel embedF32;
    private final CudaKernel embedF16;
    private final CudaKernel embedQ8_0;
    private final CudaKernel embedQ4_0;
    private final CudaKernel rowdotF32;
    private final CudaKernel rowdotF16;
    private final CudaKernel ropeStoreKv;
    private final CudaKernel attentionPartial;
    private final CudaKernel attentionCombine;
    private final CudaKernel argmax;
    private final CudaKernel rmsNormRow;
    private final int maxBlocks;

    /** Loads the decode module into the current context. */
    public DecodeKernels(CudaContext context) {
        this.module = context.loadModule("io/panllm/kernels/common.ptx", "io/panllm/kernels/decode.ptx");
        this.embedF32 = module.kernel("embed_f32");
        this.embedF16 = module.kernel("embed_f16");
        this.embedQ8_0 = module.kernel("embed_q8_0");
        this.embedQ4_0 = module.kernel("embed_q4_0");
        this.rowdotF32 = module.kernel("rowdot_f32");
        this.rowdotF16 = module.kernel("rowdot_f16");
        this.ropeStoreKv = module.kernel("rope_store_kv");
        this.attentionPartial = module.kernel("attention_partial");
        this.attentionCombine = module.kernel("attention_combine");
        this.argmax = module.kernel("argmax_f32");
        this.rmsNormRow = module.kernel("rmsnorm_row_vec4");
        this.maxBlocks = context.device().multiprocessors() * 8;
    }

    /**
     * {@code out[0 .. cols) = row token of table}, dequantized to float32; {@code token} is one
     * uint32 in device memory.
     */
    public void embed(CudaStream stream, RowFormat format, DeviceBuffer table, DeviceBuffer token, DeviceBuffer out,
                      int cols) {
        table.requireAtLeast(format.rowBytes(cols), "embedding table");
        token.requireAtLeast(4, "token id");
        out.requireAtLeast(4L * cols, "embedding out");
        CudaKernel kernel = switch (format) {
            case F32 -> embedF32;
            case F16 -> embedF16;
            case Q8_0 -> embedQ8_0;
            case Q4_0 -> embedQ4_0;
        };
        try (Arena arena = Arena.ofConfined()) {
            kernel.launch(stream, elementwise(cols), new KernelArgs(arena).pointer(out).pointer(table).pointer(token).i32(cols));
        }
    }

    /** {@code y = W x} for an F32 or F16 matrix of any width (one warp per row; for small matrices). */
    public void rowDot(CudaStream stream, RowFormat format, DeviceBuffer weights, DeviceBuffer x, DeviceBuffer y,
                       int rows, int cols) {
        CudaKernel kernel = switch (format) {
            case F32 -> rowdotF32;
            case F16 -> rowdotF16;
            default -> throw new IllegalArgumentException("rowDot takes F32 or F16 rows, not " + format);
        };
        if (rows <= 0) {
            throw new IllegalArgumentException("GEMV with " + rows + " rows");
        }
        weights.requireAtLeast(rows * format.rowBytes(cols), "weights of " + rows + "x" + cols + " " + format);
        x.requireAtLeast(4L * cols, "x");
        y.requireAtLeast(4L * rows, "y");
        try (Arena arena = Arena.ofConfined()) {
            kernel.launch(stream, LaunchShape.of((rows + ROWDOT_ROWS_PER_CTA - 1) / ROWDOT_ROWS_PER_CTA,
                    32 * ROWDOT_ROWS_PER_CTA), new KernelArgs(arena).pointer(weights).pointer(x).pointer(y).i32(rows).i32(cols));
        }
    }

    /** The shape of one sequence's attention: heads, their width and the layout of the KV cache. */
    public record AttentionShape(int heads, int kvHeads, int headDim) {
        public AttentionShape {
            if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0) {
                throw new IllegalArgumentException(heads + " query heads cannot share " + kvHeads + " KV heads");
            }
            if (headDim <= 0 || headDim > MAX_HEAD_DIM || headDim % 4 != 0) {
                throw new IllegalArgumentException("the CUDA attention kernel takes head dimensions that are multiples of 4"
                        + " up to " + MAX_HEAD_DIM + ", not " + headDim);
            }
        }

        public int queryDim() {
            return heads * headDim;
        }

        public int kvDim() {
            return kvHeads * headDim;
        }
    }

    /**
     * RoPE on {@code q} (in place) and {@code k}, then k and v stored into row {@code position} of
     * the caches ({@code kvDim} floats per position). {@code inverseFrequencies} holds ropeDim / 2
     * fp64 angles per position step; {@code position} is one uint32 in device memory.
     */
    public void ropeAndStore(CudaStream stream, AttentionShape shape, int ropeDim, RopePairs pairs, DeviceBuffer q,
                             DeviceBuffer k, DeviceBuffer v, DeviceBuffer keyCache, DeviceBuffer valueCache,
                             DeviceBuffer inverseFrequencies, DeviceBuffer position) {
        if (ropeDim <= 0 || ropeDim > shape.headDim() || ropeDim % 2 != 0) {
            throw new IllegalArgumentException("rope dimension " + ropeDim + " must be even and at most " + shape.headDim());
        }
        q.requireAtLeast(4L * shape.queryDim(), "rope q");
        k.requireAtLeast(4L * shape.kvDim(), "rope k");
        v.requireAtLeast(4L * shape.kvDim(), "store v");
        inverseFrequencies.requireAtLeast(8L * ropeDim / 2, "rope inverse frequencies");
        position.requireAtLeast(4, "position");
        int elements = shape.queryDim() + 2 * shape.kvDim();
        try (Arena arena = Arena.ofConfined()) {
            ropeStoreKv.launch(stream, elementwise(elements), new KernelArgs(arena)
                    .pointer(q).pointer(k).pointer(v).pointer(keyCache).pointer(valueCache)
                    .pointer(inverseFrequencies).pointer(position)
                    .i32(shape.heads()).i32(shape.kvHeads()).i32(shape.headDim()).i32(ropeDim)
                    .i32(pairs == RopePairs.HALVES ? 1 : 0));
        }
    }

    /** Bytes of the scratch buffer {@link #attention} needs for {@code splits} CTAs per head. */
    public static long partialBytes(AttentionShape shape, int splits) {
        return 4L * shape.heads() * splits * ATTENTION_WARPS_PER_CTA * (shape.headDim() + 4);
    }

    /**
     * {@code out[h] = softmax(q[h] . K / sqrt(headDim)) V} over positions 0 .. position (read
     * from device memory) of the caches, for every query head h; query heads share KV heads in
     * groups of heads / kvHeads. The positions are split over {@code splits} CTAs per head
     * (flash-decoding), whose partial results {@code partials} holds until they are combined.
     */
    public void attention(CudaStream stream, AttentionShape shape, int splits, DeviceBuffer q, DeviceBuffer keyCache,
                          DeviceBuffer valueCache, DeviceBuffer position, DeviceBuffer partials, DeviceBuffer out) {
        if (splits <= 0 || splits > 65535) {
            throw new IllegalArgumentException("attention splits " + splits);
        }
        q.requireAtLeast(4L * shape.queryDim(), "attention q");
        out.requireAtLeast(4L * shape.queryDim(), "attention out");
        partials.requireAtLeast(partialBytes(shape, splits), "attention partials");
        position.requireAtLeast(4, "position");
        float scaleLog2 = (float) (1.0 / Math.sqrt(shape.headDim()) / Math.log(2.0));
        int warps = splits * ATTENTION_WARPS_PER_CTA;
        try (Arena arena = Arena.ofConfined()) {
            attentionPartial.launch(stream,
                    new LaunchShape(shape.heads(), splits, 1, 32 * ATTENTION_WARPS_PER_CTA, 1, 1, 0),
                    new KernelArgs(arena).pointer(partials).pointer(q).pointer(keyCache).pointer(valueCache)
                            .pointer(position).i32(shape.headDim()).i32(shape.kvDim())
                            .i32(shape.heads() / shape.kvHeads()).f32(scaleLog2));
            attentionCombine.launch(stream, LaunchShape.of(shape.heads(), 8 * shape.headDim()),
                    new KernelArgs(arena).pointer(out).pointer(partials).i32(shape.headDim()).i32(warps));
        }
    }

    /**
     * {@code out} word 0 (a uint32) = the index of the largest of the n floats of {@code values},
     * the lowest on ties. {@code out} holds {@link #ARGMAX_BUFFER_BYTES}, zeroed before the first
     * launch (word 1 counts the CTAs done; every launch leaves it zero again).
     */
    public void argmax(CudaStream stream, DeviceBuffer values, int n, DeviceBuffer out) {
        values.requireAtLeast(4L * n, "argmax values");
        out.requireAtLeast(ARGMAX_BUFFER_BYTES, "argmax out");
        int ctas = Math.max(1, Math.min(ARGMAX_MAX_CTAS, (n + 4 * ARGMAX_THREADS - 1) / (4 * ARGMAX_THREADS)));
        try (Arena arena = Arena.ofConfined()) {
            argmax.launch(stream, LaunchShape.of(ctas, ARGMAX_THREADS), new KernelArgs(arena).pointer(out).pointer(values).i32(n));
        }
    }

    private static final int ARGMAX_THREADS = 256;
    private static final int ARGMAX_MAX_CTAS = 128; // at most ARGMAX_THREADS: the last CTA reads one slot per thread

    /**
     * Bytes of {@link #argmax}'s out buffer: the index (word 0), a completion counter (word 1)
     * that must be zero before the first launch and is left zero by every launch, and a slot per CTA.
     */
    public static final long ARGMAX_BUFFER_BYTES = 8L + 8L * ARGMAX_MAX_CTAS;

    /** Whether {@link #rmsNorm} takes rows of {@code n}: multiples of 4 up to 4096. */
    public static boolean rmsNormFits(int n) {
        return n > 0 && n % 4 == 0 && n <= 4 * 1024;
    }

    /**
     * {@code out = x / sqrt(mean(x^2) + eps) * weight} for one row of n floats, in one CTA that
     * reads x once (see {@link #rmsNormFits} for the n it takes).
     */
    public void rmsNorm(CudaStream stream, DeviceBuffer out, DeviceBuffer x, DeviceBuffer weight, int n, float eps) {
        if (!rmsNormFits(n)) {
            throw new IllegalArgumentException("rmsNorm takes rows of a multiple of 4 up to 4096 floats, not " + n);
        }
        launchRmsNorm(stream, out, x, null, weight, n, eps);
    }

    /**
     * {@code x += delta}, then {@code out = rmsnorm(x) * weight}: the residual add and the next
     * norm in one launch (what add then {@link #rmsNorm} compute, in the same float operations).
     */
    public void addRmsNorm(CudaStream stream, DeviceBuffer out, DeviceBuffer x, DeviceBuffer delta, DeviceBuffer weight,
                           int n, float eps) {
        if (!rmsNormFits(n)) {
            throw new IllegalArgumentException("addRmsNorm takes rows of a multiple of 4 up to 4096 floats, not " + n);
        }
        delta.requireAtLeast(4L * n, "addRmsNorm delta");
        launchRmsNorm(stream, out, x, delta, weight, n, eps);
    }

    private void launchRmsNorm(CudaStream stream, DeviceBuffer out, DeviceBuffer x, DeviceBuffer delta, DeviceBuffer weight,
                               int n, float eps) {
        x.requireAtLeast(4L * n, "rmsNorm x");
        out.requireAtLeast(4L * n, "rmsNorm out");
        weight.requireAtLeast(4L * n, "rmsNorm weight");
        try (Arena arena = Arena.ofConfined()) {
            KernelArgs args = new KernelArgs(arena).pointer(out).pointer(x);
            args = delta == null ? args.u64(0) : args.pointer(delta);
            rmsNormRow.launch(stream, LaunchShape.of(1, (n / 4 + 31) / 32 * 32), args.pointer(weight).i32(n).f32(eps));
        }
    }

    private LaunchShape elementwise(int n) {
        return LaunchShape.of(Math.max(1, Math.min(maxBlocks, (n + THREADS - 1) / THREADS)), THREADS);
    }

    @Override
    public void close() {
        module.close();
    }
}
