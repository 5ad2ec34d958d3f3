package io.panllm.kernels;

import java.lang.foreign.Arena;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;

/**
 * Matrix-vector products for decoding one token: {@code y[rows] = W[rows][cols] · x[cols]}, W in
 * a {@link WeightFormat} (GGUF block layout, as uploaded from the file), x and y float32.
 * Launches go onto the caller's stream and can be captured into a {@link CudaGraph}.
 */
public final class GemvKernels implements AutoCloseable {
    /** Threads per CTA at most; each thread takes chunks of 8 weights. */
    static final int MAX_THREADS = 256;

    /** How rows map to CTAs and threads (see gemv.ptx); {@link #defaultVariant} picks the fastest. */
    public enum Variant {
        /** v1: one CTA per row, 8 weights per chunk; every format. (rowsPerCta: per warp for v4.) */
        ONE_ROW_PER_CTA(1, 8, "", WeightFormat.Q4_0, WeightFormat.Q8_0, WeightFormat.F16),
        /**
         * v2: four rows per CTA sharing x, 8 weights per chunk; Q4_0 and Q8_0, and the formats of
         * gemv_formats.ptx (their v3: ONE_ROW_PER_WARP's chunk code for four rows at once).
         */
        FOUR_ROWS_PER_CTA(4, 8, "_rows4", WeightFormat.Q4_0, WeightFormat.Q8_0, WeightFormat.IQ4_NL, WeightFormat.Q4_K,
                WeightFormat.Q5_K, WeightFormat.Q6_K, WeightFormat.NF4, WeightFormat.FP4),
        /** v3: as v2 with 16 weights (half a block) per chunk and no function calls; Q4_0. */
        FOUR_ROWS_HALF_BLOCKS(4, 16, "_rows4_half_blocks", WeightFormat.Q4_0),
        /** v4: v3's loop with four rows per warp (not per CTA): warp shuffles only, no barrier; Q4_0. */
        FOUR_ROWS_PER_WARP(4, 16, "_warp_rows4", WeightFormat.Q4_0),
        /**
         * v5: four rows per warp with the next chunk's loads issued before this chunk's arithmetic;
         * Q4_0 (16 weights per chunk) and Q8_0 (8).
         */
        FOUR_ROWS_PER_WARP_PIPELINED(4, 16, "_warp_rows4_pipelined", WeightFormat.Q4_0, WeightFormat.Q8_0),
        /**
         * One row per warp, four warps per CTA, lanes over chunks of 8 (BF16) or 32 weights
         * (gemv_formats.ptx): the kernel of every format besides Q4_0, Q8_0 and F16.
         */
        ONE_ROW_PER_WARP(1, 32, "", WeightFormat.BF16, WeightFormat.IQ4_NL, WeightFormat.Q4_K, WeightFormat.Q5_K,
                WeightFormat.Q6_K,                 WeightFormat.NF4, WeightFormat.FP4);

        final int rowsPerCta;
        final int weightsPerChunk; // sizes the CTA of the per-CTA variants (the per-warp ones use 4 warps)
        final String suffix;
        final Set<WeightFormat> formats;

        Variant(int rowsPerCta, int weightsPerChunk, String suffix, WeightFormat... formats) {
            this.rowsPerCta = rowsPerCta;
            this.weightsPerChunk = weightsPerChunk;
            this.suffix = suffix;
            this.formats = Set.of(formats);
        }
    }

    private final CudaModule module;
    private final Map<WeightFormat, Map<Variant, CudaKernel>> kernels = new EnumMap<>(WeightFormat.class);
    /** LLM.int8 rows (gemv_int8.ptx): chunks of 16 weights, and of 4 for widths that are no multiple of 16. */
    private final CudaKernel int8Wide;
    private final CudaKernel int8Narrow;

    /** Loads the GEMV module into the current context. */
    public GemvKernels(CudaContext context) {
        this.module = context.loadModule("io/panllm/kernels/common.ptx", "io/panllm/kernels/gemv.ptx",
                "io/panllm/kernels/gemv_formats.ptx", "io/panllm/kernels/gemv_int8.ptx");
        for (WeightFormat format : WeightFormat.values()) {
            Map<Variant, CudaKernel> variants = new EnumMap<>(Variant.class);
            for (Variant variant : Variant.values()) {
                if (variant.formats.contains(format)) {
                    variants.put(variant, module.kernel("gemv_" + format.name().toLowerCase() + variant.suffix));
                }
            }
            kernels.put(format, variants);
        }
        int8Wide = module.kernel("gemv_i8_rows4");
        int8Narrow = module.kernel("gemv_i8_rows4_narrow");
    }

    /** Whether {@code format} has a kernel of {@code variant}. */
    public boolean supports(WeightFormat format, Variant variant) {
        return kernels.get(format).containsKey(variant);
    }

    /**
     * The variant {@link #gemv(CudaStream, WeightFormat, DeviceBuffer, DeviceBuffer, DeviceBuffer, int, int)}
     * uses: the fastest measured on the H100 at the Llama 1B and 8B shapes (NOTES.md). Q4_0's
     * pipelined rows-per-warp kernel has rows / 4 warps of parallelism, so it loses to four rows
     * per CTA on wide, short matrices (the FFN down projections: rows < cols). The formats of
     * gemv_formats.ptx (run 10, kernels/NOTES.md): four rows per CTA always wins for Q4_K, on wide
     * matrices for IQ4_NL, NF4 and FP4 (rows < cols) and only on the widest for Q6_K; elsewhere one
     * row per warp (4x the warps) is faster.
     */
    public static Variant defaultVariant(WeightFormat format, int rows, int cols) {
        return switch (format) {
            case F16 -> Variant.ONE_ROW_PER_CTA;
            case Q8_0 -> Variant.FOUR_ROWS_PER_CTA;
            case Q4_0 -> rows >= cols ? Variant.FOUR_ROWS_PER_WARP_PIPELINED : Variant.FOUR_ROWS_PER_CTA;
            case Q4_K, Q5_K -> Variant.FOUR_ROWS_PER_CTA;
            case IQ4_NL, NF4, FP4 -> rows < cols ? Variant.FOUR_ROWS_PER_CTA : Variant.ONE_ROW_PER_WARP;
            case Q6_K -> cols >= 4 * rows ? Variant.FOUR_ROWS_PER_CTA : Variant.ONE_ROW_PER_WARP;
            case BF16 -> Variant.ONE_ROW_PER_WARP;
        };
    }

    /** The loaded kernel (for its register count and the like). */
    public CudaKernel kernel(WeightFormat format, Variant variant) {
        CudaKernel kernel = kernels.get(format).get(variant);
        if (kernel == null) {
            throw new IllegalArgumentException("no " + variant + " GEMV kernel for " + format);
        }
        return kernel;
    }

    /** Enqueues {@code y = W x} on {@code stream} with the default variant. */
    public void gemv(CudaStream stream, WeightFormat format, DeviceBuffer weights, DeviceBuffer x, DeviceBuffer y,
                     int rows, int cols) {
        gemv(stream, format, defaultVariant(format, rows, cols), weights, x, y, rows, cols);
    }

    /** Enqueues {@code y = W x} on {@code stream} with the given variant. */
    public void gemv(CudaStream stream, WeightFormat format, Variant variant, DeviceBuffer weights, DeviceBuffer x,
                     DeviceBuffer y, int rows, int cols) {
        gemv(stream, format, variant, MAX_THREADS, weights, x, y, rows, cols);
    }

    /** As above with at most {@code maxThreads} threads per CTA (a multiple of 32), for tuning. */
    void gemv(CudaStream stream, WeightFormat format, Variant variant, int maxThreads, DeviceBuffer weights,
              DeviceBuffer x, DeviceBuffer y, int rows, int cols) {
        if (rows <= 0) {
            throw new IllegalArgumentException("GEMV with " + rows + " rows");
        }
        weights.requireAtLeast(format.matrixBytes(rows, cols), "weights of " + rows + "x" + cols + " " + format);
        x.requireAtLeast(4L * cols, "x");
        y.requireAtLeast(4L * rows, "y");
        CudaKernel kernel = kernel(format, variant);
        try (Arena arena = Arena.ofConfined()) {
            KernelArgs args = new KernelArgs(arena).pointer(weights).pointer(x).pointer(y).i32(rows).i32(cols);
            kernel.launch(stream, shape(rows, cols, variant, maxThreads), args);
        }
    }

    /**
     * Enqueues {@code y = W x} for LLM.int8 weights (bitsandbytes' layout: no blocks): W int8
     * [rows][cols] row-major, {@code rowScales} float32 [rows] (SCB / 127 of each row), so that
     * y[r] = rowScales[r] * sum_c W[r][c] x[c]. cols must be a multiple of 4; multiples of 16 take
     * 16-byte loads. Four rows per CTA, as the Q8_0 kernel of {@link Variant#FOUR_ROWS_PER_CTA}.
     */
    public void gemvInt8(CudaStream stream, DeviceBuffer weights, DeviceBuffer rowScales, DeviceBuffer x, DeviceBuffer y,
                         int rows, int cols) {
        if (rows <= 0 || cols <= 0 || cols % 4 != 0) {
            throw new IllegalArgumentException("INT8 GEMV needs rows > 0 and a positive multiple of 4 columns, got "
                    + rows + "x" + cols);
        }
        weights.requireAtLeast((long) rows * cols, "INT8 weights of " + rows + "x" + cols);
        rowScales.requireAtLeast(4L * rows, "row scales");
        x.requireAtLeast(4L * cols, "x");
        y.requireAtLeast(4L * rows, "y");
        boolean wide = cols % 16 == 0;
        int chunks = cols / (wide ? 16 : 4);
        int threads = Math.min(MAX_THREADS, Math.max(128, (chunks / 4 + 31) / 32 * 32));
        try (Arena arena = Arena.ofConfined()) {
            KernelArgs args = new KernelArgs(arena).pointer(weights).pointer(rowScales).pointer(x).pointer(y).i32(rows)
                    .i32(cols);
            (wide ? int8Wide : int8Narrow).launch(stream, LaunchShape.of((rows + 3) / 4, threads), args);
        }
    }

    /**
     * Threads per CTA: v1 gives each thread one chunk of 8 weights (up to maxThreads); v2 gives each
     * thread about four chunks, between 128 and maxThreads threads (measured on the H100: 128 threads
     * for 2048 and 4096 columns beat 256 by up to 30%, 256 win from 8192 columns on; NOTES.md).
     */
    static LaunchShape shape(int rows, int cols, Variant variant, int maxThreads) {
        if (variant == Variant.ONE_ROW_PER_WARP) {
            return LaunchShape.of((rows + 3) / 4, 128); // the kernels take exactly 4 warps per CTA
        }
        if (variant == Variant.FOUR_ROWS_PER_WARP || variant == Variant.FOUR_ROWS_PER_WARP_PIPELINED) {
            int threads = Math.min(maxThreads, 128);
            int rowsPerCta = variant.rowsPerCta * threads / 32;
            return LaunchShape.of((rows + rowsPerCta - 1) / rowsPerCta, threads);
        }
        int chunks = cols / variant.weightsPerChunk;
        int wanted = variant == Variant.ONE_ROW_PER_CTA ? chunks : Math.max(128, chunks / 4);
        int threads = Math.min(maxThreads, Math.max(32, (wanted + 31) / 32 * 32));
        return LaunchShape.of((rows + variant.rowsPerCta - 1) / variant.rowsPerCta, threads);
    }

    @Override
    public void close() {
        module.close();
    }
}
