package io.panllm.kernels;

import io.panllm.kernels.DecodeKernels.AttentionShape;
import io.panllm.kernels.DecodeKernels.RopePairs;
import java.lang.foreign.Arena;

/**
 * The per-sequence parts of a decode step over several sequences at once (batched_decode.ptx):
 * RoPE with the KV-cache append and attention, each sequence over its own caches up to its own
 * position. Sequence s takes row s of a {@code [sequences][stride]} activation buffer, its
 * caches from entry s of a KV table ({@link #KV_TABLE_ENTRY_BYTES} per sequence: the key cache's
 * then the value cache's device address, one table per layer) and its position from word s of a
 * positions buffer, so one launch serves sequences of different lengths (ragged attention).
 * Rows hold a multiple of 4 floats (the attention kernel loads 16 bytes at a time).
 */
public final class BatchedDecodeKernels implements AutoCloseable {
    /** Bytes of one sequence's entry in a KV table: two device addresses. */
    public static final long KV_TABLE_ENTRY_BYTES = 16;

    private static final int THREADS = 256;

    private final CudaModule module;
    private final CudaKernel ropeStoreKvRows;
    private final CudaKernel attentionPartialRows;
    private final CudaKernel attentionCombine;
    private final int maxBlocks;

    public BatchedDecodeKernels(CudaContext context) {
        // decode.ptx for attention_combine, which merges the partials of flattened (sequence, head) pairs
        this.module = context.loadModule("io/panllm/kernels/common.ptx", "io/panllm/kernels/decode.ptx",
                "io/panllm/kernels/batched_decode.ptx");
        this.ropeStoreKvRows = module.kernel("rope_store_kv_rows");
        this.attentionPartialRows = module.kernel("attention_partial_rows");
        this.attentionCombine = module.kernel("attention_combine");
        this.maxBlocks = context.device().multiprocessors() * 8;
    }

    /**
     * For each sequence s: RoPE on q (in place) and k of row s of {@code qkv} (q, k, v side by
     * side, rows of {@code stride} floats), then k and v stored at row positions[s] of its caches.
     */
    public void ropeAndStore(CudaStream stream, AttentionShape shape, int ropeDim, RopePairs pairs, DeviceBuffer qkv,
                             int stride, int sequences, DeviceBuffer kvTable, DeviceBuffer positions,
                             DeviceBuffer inverseFrequencies) {
        if (ropeDim <= 0 || ropeDim > shape.headDim() || ropeDim % 2 != 0) {
            throw new IllegalArgumentException("rope dimension " + ropeDim + " must be even and at most " + shape.headDim());
        }
        int elements = shape.queryDim() + 2 * shape.kvDim();
        checkRows(shape, qkv, stride, elements, sequences, kvTable, positions);
        inverseFrequencies.requireAtLeast(8L * ropeDim / 2, "rope inverse frequencies");
        int ctas = Math.max(1, Math.min(maxBlocks, (elements + THREADS - 1) / THREADS));
        try (Arena arena = Arena.ofConfined()) {
            ropeStoreKvRows.launch(stream, new LaunchShape(ctas, sequences, 1, THREADS, 1, 1, 0), new KernelArgs(arena)
                    .pointer(qkv).i32(stride).pointer(kvTable).pointer(positions).pointer(inverseFrequencies)
                    .i32(shape.heads()).i32(shape.kvHeads()).i32(shape.headDim()).i32(ropeDim)
                    .i32(pairs == RopePairs.HALVES ? 1 : 0));
        }
    }

    /** Bytes of the partials {@link #attention} needs for {@code sequences} sequences at {@code splits} CTAs per head. */
    public static long partialBytes(AttentionShape shape, int splits, int sequences) {
        return sequences * DecodeKernels.partialBytes(shape, splits);
    }

    /**
     * {@code out} row s ({@code queryDim} floats) = softmax(q . K / sqrt(headDim)) V of sequence
     * s's query (at the start of row s of {@code q}, rows of {@code stride} floats) over positions
     * 0 .. positions[s] of its caches; each head's positions split over {@code splits} CTAs
     * (flash-decoding) whose partials are then merged.
     */
    public void attention(CudaStream stream, AttentionShape shape, int splits, DeviceBuffer q, int stride, int sequences,
                          DeviceBuffer kvTable, DeviceBuffer positions, DeviceBuffer partials, DeviceBuffer out) {
        if (splits <= 0 || splits > 65535) {
            throw new IllegalArgumentException("attention splits " + splits);
        }
        checkRows(shape, q, stride, shape.queryDim(), sequences, kvTable, positions);
        out.requireAtLeast(4L * sequences * shape.queryDim(), "attention out");
        partials.requireAtLeast(partialBytes(shape, splits, sequences), "attention partials");
        float scaleLog2 = (float) (1.0 / Math.sqrt(shape.headDim()) / Math.log(2.0));
        int warps = splits * DecodeKernels.ATTENTION_WARPS_PER_CTA;
        try (Arena arena = Arena.ofConfined()) {
            attentionPartialRows.launch(stream,
                    new LaunchShape(shape.heads(), splits, sequences, 32 * DecodeKernels.ATTENTION_WARPS_PER_CTA, 1, 1, 0),
                    new KernelArgs(arena).pointer(partials).pointer(q).i32(stride).pointer(kvTable).pointer(positions)
                            .i32(shape.headDim()).i32(shape.kvDim()).i32(shape.heads() / shape.kvHeads()).f32(scaleLog2));
            attentionCombine.launch(stream, LaunchShape.of(sequences * shape.heads(), 8 * shape.headDim()),
                    new KernelArgs(arena).pointer(out).pointer(partials).i32(shape.headDim()).i32(warps));
        }
    }

    private static void checkRows(AttentionShape shape, DeviceBuffer rows, int stride, int width, int sequences,
                                  DeviceBuffer kvTable, DeviceBuffer positions) {
        if (sequences <= 0 || sequences > 65535) {
            throw new IllegalArgumentException("batched decode of " + sequences + " sequences");
        }
        if (stride < width || stride % 4 != 0) {
            // the attention kernel reads q four floats (16 bytes) at a time from the start of each row
            throw new IllegalArgumentException("rows of " + stride + " floats for " + width + " (a multiple of 4 at least"
                    + " that wide)");
        }
        rows.requireAtLeast(4L * ((long) (sequences - 1) * stride + width), "rows of " + sequences + " sequences");
        kvTable.requireAtLeast(KV_TABLE_ENTRY_BYTES * sequences, "KV table");
        positions.requireAtLeast(4L * sequences, "positions");
    }

    @Override
    public void close() {
        module.close();
    }
}
