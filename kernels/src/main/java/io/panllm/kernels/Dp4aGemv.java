package io.panllm.kernels;

import java.lang.foreign.Arena;
import java.util.EnumMap;
import java.util.Map;

/**
 * Decode GEMVs with integer dot products (gemv_dp4a.ptx, written by {@code tools/gemv_dp4a.py};
 * NOTES.md "GEMV v6"): x is quantized once per step to int8 blocks of 32 ({@link #quantize}, Q8_1
 * style: a scale and a scaled code sum per block), then every matrix that multiplies that x reads
 * the quantized copy ({@link #gemv}). The result is W x^ with x^ the dequantized int8 x (relative
 * error of x^ about 0.3%); {@code reference.Dp4aReference} computes exactly that on the CPU. NF4
 * uses its codebook rounded to int8 (NF4 x 127).
 */
public final class Dp4aGemv implements AutoCloseable {
    /** Rows per CTA: 4 warps of 2 rows (the kernels' launch shape). */
    private static final int ROWS_PER_CTA = 8;
    private static final int THREADS = 128;

    private final CudaModule module;
    private final CudaKernel quantize;
    private final Map<WeightFormat, CudaKernel> kernels = new EnumMap<>(WeightFormat.class);
    private final CudaKernel int8;

    /** Loads the module into the current context. */
    public Dp4aGemv(CudaContext context) {
        module = context.loadModule("io/panllm/kernels/common.ptx", "io/panllm/kernels/gemv_dp4a.ptx");
        quantize = module.kernel("quantize_q8_1");
        for (WeightFormat format : WeightFormat.values()) {
            if (unitWeights(format) > 0) {
                kernels.put(format, module.kernel("gemv_q8x_" + format.name().toLowerCase()));
            }
        }
        int8 = module.kernel("gemv_q8x_i8");
    }

    /** Weights per unit of work of a lane (32 or 64), 0 for the formats without a kernel here. */
    static int unitWeights(WeightFormat format) {
        return switch (format) {
            case Q4_0, Q8_0, IQ4_NL -> 32;
            case NF4, Q4_K, Q5_K -> 64;
            // gemv_q8x_q6_k is generated but failed DeviceCheck (relative error ~1, H200 2026-12-03): not used
            case Q6_K, F16, BF16, FP4 -> 0;
        };
    }

    /**
     * Whether {@link #gemv} takes {@code format} with rows of {@code cols}: whole units, and rows
     * that start 16-byte aligned (the kernels copy them with 16-byte cp.async): Q4_0, Q8_0 and
     * IQ4_NL need cols % 256 == 0, NF4 cols % 512 == 0.
     */
    public static boolean takes(WeightFormat format, int cols) {
        int unit = unitWeights(format);
        return unit > 0 && cols > 0 && cols % unit == 0 && cols % format.blockSize == 0
                && format.rowBytes(cols) % 16 == 0;
    }

    /** Whether {@link #gemvInt8} takes rows of {@code cols}. */
    public static boolean takesInt8(int cols) {
        return cols > 0 && cols % 32 == 0;
    }

    /** Bytes of the quantized x of {@code cols} (a multiple of 32): the codes, then (d, s) per block of 32. */
    public static long activationBytes(int cols) {
        return cols + 8L * (cols / 32);
    }

    /** Enqueues xq = x quantized to int8 blocks of 32 (cols a multiple of 32). */
    public void quantize(CudaStream stream, DeviceBuffer x, DeviceBuffer xq, int cols) {
        if (cols <= 0 || cols % 32 != 0) {
            throw new IllegalArgumentException("x quantization needs a positive multiple of 32 values, got " + cols);
        }
        x.requireAtLeast(4L * cols, "x");
        xq.requireAtLeast(activationBytes(cols), "quantized x");
        try (Arena arena = Arena.ofConfined()) {
            KernelArgs args = new KernelArgs(arena).pointer(x).pointer(xq).i32(cols);
            quantize.launch(stream, LaunchShape.of((cols + 255) / 256, 256), args);
        }
    }

    /** Enqueues {@code y = W x^} with xq from {@link #quantize}; {@link #takes} must hold. */
    public void gemv(CudaStream stream, WeightFormat format, DeviceBuffer weights, DeviceBuffer xq, DeviceBuffer y,
                     int rows, int cols) {
        if (rows <= 0 || !takes(format, cols)) {
            throw new IllegalArgumentException("no dp4a GEMV for " + rows + "x" + cols + " " + format);
        }
        weights.requireAtLeast(format.matrixBytes(rows, cols), "weights of " + rows + "x" + cols + " " + format);
        launch(kernels.get(format), stream, weights, xq, y, rows, cols, null);
    }

    /**
     * Enqueues {@code y = W x^} for LLM.int8 rows (int8 [rows][cols], {@code rowScales} float [rows]),
     * as {@link GemvKernels#gemvInt8} with x quantized.
     */
    public void gemvInt8(CudaStream stream, DeviceBuffer weights, DeviceBuffer rowScales, DeviceBuffer xq,
                         DeviceBuffer y, int rows, int cols) {
        if (rows <= 0 || !takesInt8(cols)) {
            throw new IllegalArgumentException("no dp4a INT8 GEMV for " + rows + "x" + cols);
        }
        weights.requireAtLeast((long) rows * cols, "INT8 weights of " + rows + "x" + cols);
        rowScales.requireAtLeast(4L * rows, "row scales");
        launch(int8, stream, weights, xq, y, rows, cols, rowScales);
    }

    private static void launch(CudaKernel kernel, CudaStream stream, DeviceBuffer weights, DeviceBuffer xq,
                               DeviceBuffer y, int rows, int cols, DeviceBuffer rowScales) {
        xq.requireAtLeast(activationBytes(cols), "quantized x");
        y.requireAtLeast(4L * rows, "y");
        try (Arena arena = Arena.ofConfined()) {
            KernelArgs args = new KernelArgs(arena).pointer(weights).pointer(xq).pointer(y).i32(rows).i32(cols);
            if (rowScales != null) {
                args.pointer(rowScales);
            }
            kernel.launch(stream, LaunchShape.of((rows + ROWS_PER_CTA - 1) / ROWS_PER_CTA, THREADS), args);
        }
    }

    /** The loaded kernel of {@code format} (register counts for DeviceCheck), null for INT8. */
    public CudaKernel kernel(WeightFormat format) {
        return format == null ? int8 : kernels.get(format);
    }

    @Override
    public void close() {
        module.close();
    }
}
