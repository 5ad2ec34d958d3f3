package io.panllm.kernels;

import java.lang.foreign.Arena;
import java.util.EnumMap;
import java.util.Map;

/**
 * The token embedding lookup: one row of a {@link WeightFormat} matrix dequantized to float32,
 * the row index (the token id) read from device memory so that a captured graph replays for
 * every new token. An id out of range gives a row of NaN, never a read outside the matrix.
 */
public final class EmbedKernels implements AutoCloseable {
    private static final int THREADS = 256;

    private final CudaModule module;
    private final Map<WeightFormat, CudaKernel> kernels = new EnumMap<>(WeightFormat.class);

    /** Loads the embedding module into the current context. */
    public EmbedKernels(CudaContext context) {
        this.module = context.loadModule("io/panllm/kernels/common.ptx", "io/panllm/kernels/embed.ptx");
        for (WeightFormat format : WeightFormat.values()) {
            kernels.put(format, module.kernel("embed_" + format.name().toLowerCase()));
        }
    }

    /** Enqueues {@code out[0..cols) = W[token]}, {@code token} one uint32 in device memory. */
    public void embed(CudaStream stream, WeightFormat format, DeviceBuffer weights, DeviceBuffer token, DeviceBuffer out,
                      int rows, int cols) {
        weights.requireAtLeast(format.matrixBytes(rows, cols), "embedding weights of " + rows + "x" + cols + " " + format);
        token.requireAtLeast(4, "token");
        out.requireAtLeast(4L * cols, "embedding out");
        try (Arena arena = Arena.ofConfined()) {
            kernels.get(format).launch(stream, LaunchShape.of((cols + THREADS - 1) / THREADS, THREADS),
                    new KernelArgs(arena).pointer(out).pointer(weights).pointer(token).i32(rows).i32(cols));
        }
    }

    @Override
    public void close() {
        module.close();
    }
}
