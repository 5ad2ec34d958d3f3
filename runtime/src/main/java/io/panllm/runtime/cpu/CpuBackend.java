package io.panllm.runtime.cpu;

import io.panllm.runtime.backend.Backend;
import io.panllm.runtime.model.ModelException;
import io.panllm.runtime.model.ModelWeights;
import io.panllm.runtime.model.TensorView;
import io.panllm.tensor.GgmlType;
import java.util.Set;

/**
 * The reference backend: the forward pass in Java on the CPU, matrix products with the Vector API
 * over the quantized blocks in place, split over a fixed number of threads.
 */
public final class CpuBackend implements Backend {
    private final Parallel parallel;
    private final MatrixInputs matrixInputs;

    /** A backend using {@code threads} threads for matrix products and attention. */
    public CpuBackend(int threads) {
        this(threads, null);
    }

    /** A backend whose models show {@code matrixInputs} (if not null) every matrix product's input: calibration. */
    public CpuBackend(int threads, MatrixInputs matrixInputs) {
        this.parallel = new Parallel(threads);
        this.matrixInputs = matrixInputs;
    }

    /** One thread per available processor. */
    public CpuBackend() {
        this(Runtime.getRuntime().availableProcessors());
    }

    /** Tensor types the CPU can compute with. */
    public static Set<GgmlType> supportedTypes() {
        return Set.copyOf(ScalarKernels.SUPPORTED);
    }

    @Override
    public String name() {
        return "cpu (" + parallel.threads() + (parallel.threads() == 1 ? " thread)" : " threads)");
    }

    @Override
    public BackendModel load(ModelWeights weights) {
        Thread someWorker = new Thread(() -> { });
        for (TensorView t : weights.tensors().values()) {
            if (parallel.threads() > 1 && !t.data().isAccessibleBy(someWorker)) {
                throw new ModelException("tensor '" + t.name() + "' lives in memory of a confined arena, which the CPU"
                        + " backend's threads cannot read; allocate it with Arena.ofShared() or Arena.ofAuto()");
            }
            if (!ScalarKernels.SUPPORTED.contains(t.type())) {
                throw new ModelException("tensor '" + t.name() + "' is " + t.type()
                        + ", which the CPU backend cannot compute with (it supports " + ScalarKernels.SUPPORTED + ")");
            }
        }
        return new CpuModel(weights, parallel, matrixInputs);
    }

    @Override
    public void close() {
        parallel.close();
    }
}
