package io.panllm.kernels;

import java.lang.foreign.Arena;

/**
 * The element-wise and normalization kernels of a Llama layer, float32 throughout: RMSNorm,
 * SwiGLU, residual add, RoPE. Launches go onto the caller's stream.
 */
public final class LayerKernels implements AutoCloseable {
    private static final int THREADS = 256;

    private final CudaModule module;
    private final CudaKernel rmsNorm;
    private final CudaKernel swiglu;
    private final CudaKernel add;
    private final CudaKernel rope;
    private final int maxBlocks;

    /** Loads the layer module into the current context. */
    public LayerKernels(CudaContext context) {
        this.module = context.loadModule("io/panllm/kernels/common.ptx", "io/panllm/kernels/layer.ptx");
        this.rmsNorm = module.kernel("rmsnorm_f32");
        this.swiglu = module.kernel("swiglu_f32");
        this.add = module.kernel("add_f32");
        this.rope = module.kernel("rope_f32");
        // Grid-stride kernels: a few waves of CTAs are enough to cover any length.
        this.maxBlocks = context.device().multiprocessors() * 8;
    }

    /** {@code out[r] = x[r] / rms(x[r]) * weight} for each of {@code rows} rows of {@code n} (a multiple of 4). */
    public void rmsNorm(CudaStream stream, DeviceBuffer out, DeviceBuffer x, DeviceBuffer weight, int rows, int n,
                        float eps) {
        if (n <= 0 || n % 4 != 0) {
            throw new IllegalArgumentException("RMSNorm rows need a positive multiple of 4 elements, got " + n);
        }
        x.requireAtLeast(4L * rows * n, "rmsNorm x");
        out.requireAtLeast(4L * rows * n, "rmsNorm out");
        weight.requireAtLeast(4L * n, "rmsNorm weight");
        try (Arena arena = Arena.ofConfined()) {
            // one float4 per thread and pass where the row allows it
            int threads = Math.min(1024, Math.max(32, (n / 4 + 31) / 32 * 32));
            rmsNorm.launch(stream, LaunchShape.of(rows, threads),
                    new KernelArgs(arena).pointer(out).pointer(x).pointer(weight).i32(n).f32(eps));
        }
    }

    /** {@code out = silu(gate) * up}, element-wise over n. */
    public void swiglu(CudaStream stream, DeviceBuffer out, DeviceBuffer gate, DeviceBuffer up, int n) {
        gate.requireAtLeast(4L * n, "swiglu gate");
        up.requireAtLeast(4L * n, "swiglu up");
        out.requireAtLeast(4L * n, "swiglu out");
        try (Arena arena = Arena.ofConfined()) {
            swiglu.launch(stream, elementwise(n), new KernelArgs(arena).pointer(out).pointer(gate).pointer(up).i32(n));
        }
    }

    /** {@code x += addend}, element-wise over n. */
    public void add(CudaStream stream, DeviceBuffer x, DeviceBuffer addend, int n) {
        x.requireAtLeast(4L * n, "add x");
        addend.requireAtLeast(4L * n, "add addend");
        try (Arena arena = Arena.ofConfined()) {
            add.launch(stream, elementwise(n), new KernelArgs(arena).pointer(x).pointer(addend).i32(n));
        }
    }

    /**
     * Rotates the adjacent pairs of each of {@code heads} heads of {@code headDim} in place, by
     * angle {@code position * invFreq[k]} for pair k; {@code position} is one uint32 in device memory.
     */
    public void rope(CudaStream stream, DeviceBuffer x, DeviceBuffer invFreq, DeviceBuffer position, int heads,
                     int headDim) {
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("RoPE needs an even head dimension, got " + headDim);
        }
        x.requireAtLeast(4L * heads * headDim, "rope x");
        invFreq.requireAtLeast(4L * headDim / 2, "rope invFreq");
        position.requireAtLeast(4, "rope position");
        try (Arena arena = Arena.ofConfined()) {
            rope.launch(stream, elementwise(heads * headDim / 2),
                    new KernelArgs(arena).pointer(x).pointer(invFreq).pointer(position).i32(heads).i32(headDim));
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
