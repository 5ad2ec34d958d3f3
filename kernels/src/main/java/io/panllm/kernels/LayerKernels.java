package io.panllm.kernels;

import java.lang.foreign.Arena;

/**
 * The element-wise and normalization kernels of a Llama layer, float32 throughout: RMSNorm,
 * SwiGLU, residual add, RoPE, plus the KV-cache append and greedy argmax of a decode step.
 * Launches go onto the caller's stream.
 */
public final class LayerKernels implements AutoCloseable {
    private static final int THREADS = 256;
    /** CTAs of argmax pass 1 (at most THREADS: pass 2 reduces their candidates with one CTA). */
    private static final int ARGMAX_BLOCKS = 128;

    private final CudaModule module;
    private final CudaKernel rmsNorm;
    private final CudaKernel swiglu;
    private final CudaKernel add;
    private final CudaKernel rope;
    private final CudaKernel argmax;
    private final CudaKernel storeAtPosition;
    private final int maxBlocks;
    /** argmax pass 1 writes one candidate per CTA here; pass 2 reduces them. */
    private final DeviceBuffer candidateValues;
    private final DeviceBuffer candidateIndices;

    /** Loads the layer module into the current context. */
    public LayerKernels(CudaContext context) {
        this.module = context.loadModule("io/panllm/kernels/common.ptx", "io/panllm/kernels/layer.ptx");
        this.rmsNorm = module.kernel("rmsnorm_f32");
        this.swiglu = module.kernel("swiglu_f32");
        this.add = module.kernel("add_f32");
        this.rope = module.kernel("rope_f32");
        this.argmax = module.kernel("argmax_f32");
        this.storeAtPosition = module.kernel("store_at_position_f32");
        // Grid-stride kernels: a few waves of CTAs are enough to cover any length.
        this.maxBlocks = context.device().multiprocessors() * 8;
        this.candidateValues = context.allocate(4L * ARGMAX_BLOCKS);
        this.candidateIndices = context.allocate(4L * ARGMAX_BLOCKS);
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

    /**
     * Enqueues {@code result[0] = index of the largest of values[0..n)} (uint32; the lowest index
     * among equal values; NaN never wins; 0xFFFFFFFF if no value beats -inf): greedy sampling
     * without copying the logits to the host.
     */
    public void argmax(CudaStream stream, DeviceBuffer values, int n, DeviceBuffer result) {
        values.requireAtLeast(4L * n, "argmax values");
        result.requireAtLeast(4, "argmax result");
        int blocks = Math.max(1, Math.min(ARGMAX_BLOCKS, (n + THREADS - 1) / THREADS));
        try (Arena arena = Arena.ofConfined()) {
            argmax.launch(stream, LaunchShape.of(blocks, THREADS), new KernelArgs(arena)
                    .pointer(values).u64(0).i32(n).pointer(candidateValues).pointer(candidateIndices));
            argmax.launch(stream, LaunchShape.of(1, THREADS), new KernelArgs(arena)
                    .pointer(candidateValues).pointer(candidateIndices).i32(blocks).pointer(candidateValues).pointer(result));
        }
    }

    /**
     * Enqueues {@code cache[position * n + i] = value[i]}; {@code position} is one uint32 in device
     * memory. The cache holds {@code cache.byteSize() / (4 n)} rows; a position past them writes
     * nothing (the kernel checks, since only the device knows the position).
     */
    public void storeAtPosition(CudaStream stream, DeviceBuffer cache, DeviceBuffer value, int n, DeviceBuffer position) {
        value.requireAtLeast(4L * n, "stored value");
        position.requireAtLeast(4, "position");
        cache.requireAtLeast(4L * n, "cache");
        int slots = (int) Math.min(Integer.MAX_VALUE, cache.byteSize() / (4L * n));
        try (Arena arena = Arena.ofConfined()) {
            storeAtPosition.launch(stream, elementwise(n),
                    new KernelArgs(arena).pointer(cache).pointer(value).i32(n).pointer(position).i32(slots));
        }
    }

    private LaunchShape elementwise(int n) {
        return LaunchShape.of(Math.max(1, Math.min(maxBlocks, (n + THREADS - 1) / THREADS)), THREADS);
    }

    @Override
    public void close() {
        candidateValues.close();
        candidateIndices.close();
        module.close();
    }
}
