package io.panllm.runtime.cuda;

import io.panllm.kernels.CudaContext;
import io.panllm.kernels.CudaException;
import io.panllm.kernels.CudaStream;
import io.panllm.kernels.DeviceBuffer;
import io.panllm.runtime.model.LayerWeights;
import io.panllm.runtime.model.ModelConfig;
import io.panllm.runtime.model.ModelWeights;
import io.panllm.runtime.model.TensorView;
import io.panllm.tensor.UnsupportedTypeException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's weights in GPU memory: every matrix uploaded once as it is stored (quantized blocks,
 * no dequantized copy; a tied LM head shares the embedding's buffer), the small vectors (norms,
 * biases) as float32, and the RoPE inverse frequencies as float64. Closing frees them all.
 */
final class DeviceWeights implements AutoCloseable {
    /** CUDA_ERROR_OUT_OF_MEMORY */
    static final int OUT_OF_MEMORY = 2;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** One layer's tensors on the device; biases null where the model has none. */
    record Layer(DeviceBuffer attentionNorm, DeviceMatrix query, DeviceMatrix key, DeviceMatrix value,
            DeviceBuffer queryBias, DeviceBuffer keyBias, DeviceBuffer valueBias, DeviceMatrix attentionOutput,
            DeviceBuffer ffnNorm, DeviceMatrix ffnGate, DeviceMatrix ffnUp, DeviceMatrix ffnDown) {
    }

    final DeviceMatrix tokenEmbedding;
    final List<Layer> layers = new ArrayList<>();
    final DeviceBuffer outputNorm;
    final DeviceMatrix output;
    /** Per rotary pair i: base^(-2i/d) / rope_freqs[i] / linear scale, as float64 (as the CPU backend computes it). */
    final DeviceBuffer ropeInverseFrequencies;

    private final List<DeviceBuffer> allocations = new ArrayList<>();
    private final Map<TensorView, DeviceMatrix> uploaded = new IdentityHashMap<>();
    private final CudaContext context;
    private final CudaStream stream;

    private DeviceWeights(ModelWeights weights, CudaContext context, CudaStream stream) {
        this.context = context;
        this.stream = stream;
        try {
            ModelConfig config = weights.config();
            tokenEmbedding = matrix(weights.tokenEmbedding());
            output = matrix(weights.output());
            outputNorm = vector(weights.outputNorm());
            for (LayerWeights w : weights.layers()) {
                layers.add(new Layer(vector(w.attentionNorm()), matrix(w.query()), matrix(w.key()), matrix(w.value()),
                        vector(w.queryBias()), vector(w.keyBias()), vector(w.valueBias()), matrix(w.attentionOutput()),
                        vector(w.ffnNorm()), matrix(w.ffnGate()), matrix(w.ffnUp()), matrix(w.ffnDown())));
            }
            float[] factors = weights.ropeFreqs() == null ? null : floats(weights.ropeFreqs());
            int pairs = config.ropeDimensionCount() / 2;
            double[] inverse = new double[pairs];
            for (int i = 0; i < pairs; i++) {
                double frequency = Math.pow(config.ropeFreqBase(), -2.0 * i / config.ropeDimensionCount());
                inverse[i] = frequency / (factors == null ? 1.0 : factors[i]) / config.ropeScaleFactor();
            }
            try (Arena arena = Arena.ofConfined()) {
                ropeInverseFrequencies = upload("rope inverse frequencies",
                        arena.allocateFrom(ValueLayout.JAVA_DOUBLE.withOrder(ByteOrder.LITTLE_ENDIAN), inverse));
            }
        } catch (RuntimeException e) {
            close(); // a failed upload leaves nothing allocated
            throw e;
        }
    }

    /**
     * Uploads {@code weights} after checking that every type has a GPU kernel and that they fit
     * in the free device memory.
     *
     * @throws UnsupportedOnGpuException a tensor type the CUDA backend cannot compute with
     * @throws GpuMemoryException        too little free GPU memory
     */
    static DeviceWeights upload(ModelWeights weights, CudaContext context, CudaStream stream) {
        checkSupported(weights);
        long needed = 0;
        for (TensorView t : weights.tensors().values()) {
            needed += t.data().byteSize();
        }
        CudaContext.MemoryInfo memory = context.memoryInfo();
        if (needed > memory.freeBytes()) {
            throw new GpuMemoryException("the model's weights need " + GpuMemoryException.mebibytes(needed)
                    + " of GPU memory, but only " + GpuMemoryException.mebibytes(memory.freeBytes()) + " of "
                    + GpuMemoryException.mebibytes(memory.totalBytes()) + " are free on " + context.device().name()
                    + "; use a smaller model or --device cpu");
        }
        return new DeviceWeights(weights, context, stream);
    }

    private static void checkSupported(ModelWeights weights) {
        DeviceMatrix.checkSupported(weights.tokenEmbedding());
        DeviceMatrix.checkSupported(weights.output());
        for (LayerWeights w : weights.layers()) {
            for (TensorView m : List.of(w.query(), w.key(), w.value(), w.attentionOutput(), w.ffnGate(), w.ffnUp(),
                    w.ffnDown())) {
                DeviceMatrix.checkSupported(m);
            }
        }
    }

    private DeviceMatrix matrix(TensorView view) {
        DeviceMatrix existing = uploaded.get(view);
        if (existing != null) {
            return existing;
        }
        DeviceMatrix matrix = DeviceMatrix.of(view, upload(view.name(), view.data()));
        uploaded.put(view, matrix);
        return matrix;
    }

    /** A norm or bias as float32 on the device; null stays null. */
    private DeviceBuffer vector(TensorView view) {
        if (view == null) {
            return null;
        }
        float[] values = floats(view);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(4L * values.length);
            MemorySegment.copy(values, 0, host, FLOAT, 0, values.length);
            return upload(view.name(), host);
        }
    }

    private static float[] floats(TensorView view) {
        float[] values = new float[Math.toIntExact(view.elementCount())];
        try {
            view.type().codec().dequantize(view.data(), values, 0, values.length);
        } catch (UnsupportedTypeException e) {
            throw new UnsupportedOnGpuException("tensor '" + view.name() + "' is " + view.type());
        }
        return values;
    }

    private DeviceBuffer upload(String name, MemorySegment host) {
        DeviceBuffer buffer;
        try {
            buffer = context.allocate(host.byteSize());
        } catch (CudaException e) {
            if (e.result() == OUT_OF_MEMORY) {
                throw new GpuMemoryException("out of GPU memory while uploading '" + name + "' ("
                        + GpuMemoryException.mebibytes(host.byteSize()) + ")", e);
            }
            throw e;
        }
        allocations.add(buffer);
        buffer.copyFrom(host, stream);
        return buffer;
    }

    /** Device bytes held. */
    long byteSize() {
        long bytes = 0;
        for (DeviceBuffer b : allocations) {
            bytes += b.byteSize();
        }
        return bytes;
    }

    @Override
    public void close() {
        for (DeviceBuffer b : allocations) {
            b.close();
        }
        allocations.clear();
    }
}
