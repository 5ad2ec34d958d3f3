package io.panllm.runtime.cuda;

import io.panllm.kernels.CudaContext;
import io.panllm.kernels.CudaStream;
import io.panllm.kernels.CudaUnavailableException;
import io.panllm.runtime.backend.Backend;
import io.panllm.runtime.model.ModelWeights;
import io.panllm.tensor.GgmlType;
import java.util.Set;

/**
 * The forward pass on an NVIDIA GPU through the project's PTX kernels: weights uploaded once as
 * they are stored, the KV cache in device memory, each decode step replayed as a CUDA graph.
 * One backend holds one device's context, one stream and the loaded kernel modules; its models
 * and caches are used from one thread at a time (any thread: each call makes the context current).
 */
public final class CudaBackend implements Backend {
    private final CudaContext context;
    private final CudaStream stream;
    private final CudaKernels kernels;

    /**
     * Opens device {@code ordinal} and loads the kernels.
     *
     * @throws CudaUnavailableException where there is no driver or no such device
     */
    public CudaBackend(int ordinal) {
        CudaContext opened = CudaContext.open(ordinal);
        CudaStream created = null;
        try {
            created = opened.createStream();
            this.kernels = CudaKernels.load(opened);
        } catch (RuntimeException e) {
            if (created != null) {
                created.close();
            }
            opened.close();
            throw e;
        }
        this.context = opened;
        this.stream = created;
    }

    /** Device 0. */
    public CudaBackend() {
        this(0);
    }

    /**
     * Matrix types the CUDA backend computes with: the block layouts of its GEMV kernels, F32 and
     * INT8 (LLM.int8 rows); vectors (norms, biases) of any type the codecs read.
     */
    public static Set<GgmlType> supportedTypes() {
        Set<GgmlType> types = java.util.EnumSet.of(GgmlType.F32, GgmlType.I8);
        for (GgmlType type : GgmlType.values()) {
            if (DeviceMatrix.blockFormat(type) != null) {
                types.add(type);
            }
        }
        return java.util.Collections.unmodifiableSet(types);
    }

    @Override
    public String name() {
        return "cuda (" + context.device().name() + ")";
    }

    /**
     * Uploads the weights.
     *
     * @throws UnsupportedOnGpuException a tensor type or head size without a GPU kernel
     * @throws GpuMemoryException        the weights do not fit in the free GPU memory
     */
    @Override
    public CudaModel load(ModelWeights weights) {
        context.makeCurrent();
        CudaModel.attentionShape(weights.config()); // refuse unsupported head sizes before uploading
        DeviceWeights uploaded = DeviceWeights.upload(weights, context, stream);
        return new CudaModel(weights.config(), uploaded, context, stream, kernels);
    }

    /**
     * Device-to-device copy bandwidth (bytes read + written per second) over 256 MiB: the
     * practical ceiling a decode step's weight reads are compared with. Allocates 512 MiB while
     * it runs.
     */
    public double copyBandwidth() {
        context.makeCurrent();
        try (io.panllm.kernels.KernelBenchmarks timing = new io.panllm.kernels.KernelBenchmarks(context, stream, kernels.gemv(),
                new java.util.Random(1))) {
            return timing.copyBandwidth(256L << 20);
        }
    }

    @Override
    public void close() {
        context.makeCurrent();
        kernels.close();
        stream.close();
        context.close();
    }
}
