package io.panllm.kernels;

import java.lang.foreign.Arena;

/**
 * Matrix-vector products for decoding one token: {@code y[rows] = W[rows][cols] · x[cols]}, W in
 * a {@link WeightFormat} (GGUF block layout, as uploaded from the file), x and y float32.
 * Launches go onto the caller's stream and can be captured into a {@link CudaGraph}.
 */
public final class GemvKernels implements AutoCloseable {
    /** Threads per CTA at most; one CTA per row, each thread takes chunks of 8 weights. */
    static final int MAX_THREADS = 256;

    private final CudaModule module;
    private final CudaKernel[] kernels = new CudaKernel[WeightFormat.values().length];

    /** Loads the GEMV module into the current context. */
    public GemvKernels(CudaContext context) {
        this.module = context.loadModule("io/panllm/kernels/common.ptx", "io/panllm/kernels/gemv.ptx");
        for (WeightFormat format : WeightFormat.values()) {
            kernels[format.ordinal()] = module.kernel(format.gemvKernel);
        }
    }

    /** The loaded kernel for {@code format} (for its register count and the like). */
    public CudaKernel kernel(WeightFormat format) {
        return kernels[format.ordinal()];
    }

    /** Enqueues {@code y = W x} on {@code stream}. */
    public void gemv(CudaStream stream, WeightFormat format, DeviceBuffer weights, DeviceBuffer x, DeviceBuffer y,
                     int rows, int cols) {
        requireBytes(weights, format.matrixBytes(rows, cols), "weights of " + rows + "x" + cols + " " + format);
        requireBytes(x, 4L * cols, "x");
        requireBytes(y, 4L * rows, "y");
        try (Arena arena = Arena.ofConfined()) {
            KernelArgs args = new KernelArgs(arena).pointer(weights).pointer(x).pointer(y).i32(rows).i32(cols);
            kernels[format.ordinal()].launch(stream, shape(rows, cols), args);
        }
    }

    /** One CTA per row; enough threads that each takes one chunk of 8 weights, up to MAX_THREADS. */
    static LaunchShape shape(int rows, int cols) {
        int chunks = cols / 8;
        int threads = Math.min(MAX_THREADS, Math.max(32, (chunks + 31) / 32 * 32));
        return LaunchShape.of(rows, threads);
    }

    static void requireBytes(DeviceBuffer buffer, long bytes, String what) {
        if (buffer.byteSize() < bytes) {
            throw new IllegalArgumentException(what + ": buffer of " + buffer.byteSize() + " bytes, needs " + bytes);
        }
    }

    @Override
    public void close() {
        module.close();
    }
}
