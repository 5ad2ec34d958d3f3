package io.panllm.runtime.cuda;

import io.panllm.kernels.CudaContext;
import io.panllm.kernels.CudaStream;
import io.panllm.kernels.DeviceBuffer;
import io.panllm.runtime.model.LayerWeights;
import io.panllm.runtime.model.ModelConfig;
import io.panllm.runtime.model.ModelWeights;
import io.panllm.runtime.model.TensorView;
import io.panllm.tensor.GgmlType;
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
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * One layer's tensors on the device; biases null where the model has none. The Q, K and V
     * matrices are stacked row-wise (as are gate and up) where they share a type, so that one
     * GEMV computes q|k|v into one buffer: {@code qkv} is one matrix or three, whose outputs in
     * order make up q|k|v (likewise {@code gateUp}).
     */
    record Layer(DeviceBuffer attentionNorm, List<DeviceMatrix> qkv, DeviceBuffer queryBias, DeviceBuffer keyBias,
            DeviceBuffer valueBias, DeviceMatrix attentionOutput, DeviceBuffer ffnNorm, List<DeviceMatrix> gateUp,
            DeviceMatrix ffnDown) {
    }

    final DeviceMatrix tokenEmbedding;
    final List<Layer> layers = new ArrayList<>();
    final DeviceBuffer outputNorm;
    final DeviceMatrix output;
    /** Per rotary pair i: base^(-2i/d) / rope_freqs[i] / linear scale, as float64 (as the CPU backend computes it). */
    final DeviceBuffer ropeInverseFrequencies;

    private final DeviceBuffers allocations;
    private final Map<TensorView, DeviceMatrix> uploaded = new IdentityHashMap<>();
    private final CudaStream stream;

    private DeviceWeights(ModelWeights weights, CudaContext context, CudaStream stream) {
        this.stream = stream;
        this.allocations = new DeviceBuffers(context);
        try {
            ModelConfig config = weights.config();
            tokenEmbedding = embeddingTable(weights.tokenEmbedding());
            output = matrix(weights.output());
            outputNorm = vector(weights.outputNorm());
            for (LayerWeights w : weights.layers()) {
                layers.add(new Layer(vector(w.attentionNorm()), stacked(w.query(), w.key(), w.value()),
                        vector(w.queryBias()), vector(w.keyBias()), vector(w.valueBias()), matrix(w.attentionOutput()),
                        vector(w.ffnNorm()), stacked(w.ffnGate(), w.ffnUp()), matrix(w.ffnDown())));
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
        if (DeviceMatrix.rowFormat(weights.tokenEmbedding().type()) == null) {
            needed += 4 * weights.tokenEmbedding().elementCount(); // the F32 copy the lookup reads
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
        // (the token embedding takes any type the codecs read: see embeddingTable)
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
        DeviceMatrix matrix = DeviceMatrix.of(view, upload(view.name(), view.data()), rowScales(view.name(), view));
        uploaded.put(view, matrix);
        return matrix;
    }

    /**
     * The table the embedding lookup reads: the uploaded matrix where the lookup has a kernel for
     * its type (shared with a tied LM head), else a second copy dequantized to F32 on the host, a
     * slab of rows at a time: exactly the CPU backend's values. (The lookup runs inside the
     * captured graph with the token id in device memory, so the host cannot dequantize just the
     * one row per step without a copy before every replay; the copy costs 4 bytes per element of
     * GPU memory once, 1 GB for Llama-3.2-1B's 128256 x 2048 table.)
     */
    private DeviceMatrix embeddingTable(TensorView view) {
        if (DeviceMatrix.rowFormat(view.type()) != null) {
            return matrix(view);
        }
        int rows = Math.toIntExact(view.rows());
        int cols = Math.toIntExact(view.rowLength());
        long rowBytes = view.data().byteSize() / rows;
        int slab = Math.max(1, (1 << 22) / cols); // about 16 MB of floats per slab
        DeviceBuffer table = allocate(view.name() + " (as F32 for the lookup)", 4L * rows * cols);
        float[] values = new float[slab * cols];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment floats = arena.allocate(4L * slab * cols, 16);
            for (int first = 0; first < rows; first += slab) {
                int count = Math.min(slab, rows - first);
                try {
                    view.type().codec().dequantize(view.data().asSlice(first * rowBytes, count * rowBytes), values, 0,
                            count * cols);
                    for (int r = 0; r < count && view.rowScales() != null; r++) { // INT8 rows: their scale
                        float scale = view.rowScale(first + r);
                        for (int c = 0; c < cols; c++) {
                            values[r * cols + c] *= scale;
                        }
                    }
                } catch (UnsupportedTypeException e) {
                    throw new UnsupportedOnGpuException("tensor '" + view.name() + "' is " + view.type());
                }
                MemorySegment.copy(values, 0, floats, FLOAT, 0, count * cols);
                table.slice(4L * first * cols, 4L * count * cols).copyFrom(floats.asSlice(0, 4L * count * cols), stream);
            }
        }
        return DeviceMatrix.stacked(view.name() + " (F32)", table, null, GgmlType.F32, rows, cols);
    }

    /**
     * Matrices that multiply the same input, uploaded as few stacked matrices as their types
     * allow (runs of one type become one buffer, rows one after the other, bytes as stored).
     */
    private List<DeviceMatrix> stacked(TensorView... parts) {
        List<DeviceMatrix> matrices = new ArrayList<>();
        int first = 0;
        while (first < parts.length) {
            int end = first + 1;
            while (end < parts.length && parts[end].type() == parts[first].type()) {
                end++;
            }
            long bytes = 0;
            long rows = 0;
            for (int i = first; i < end; i++) {
                bytes += parts[i].data().byteSize();
                rows += parts[i].rows();
            }
            String name = parts[first].name() + (end - first > 1 ? " (+" + (end - first - 1) + " stacked)" : "");
            DeviceBuffer buffer = allocate(name, bytes);
            long offset = 0;
            for (int i = first; i < end; i++) {
                buffer.slice(offset, parts[i].data().byteSize()).copyFrom(parts[i].data(), stream);
                offset += parts[i].data().byteSize();
            }
            TensorView head = parts[first];
            DeviceBuffer scales = rowScales(name, java.util.Arrays.copyOfRange(parts, first, end));
            matrices.add(DeviceMatrix.stacked(name, buffer, scales, head.type(), Math.toIntExact(rows),
                    Math.toIntExact(head.rowLength())));
            first = end;
        }
        return matrices;
    }

    /**
     * For INT8 matrices (stacked in this order): each row's factor SCB / 127, float32, as the CPU
     * backend computes it; null for the block types.
     */
    private DeviceBuffer rowScales(String name, TensorView... parts) {
        if (parts[0].rowScales() == null) {
            return null;
        }
        int rows = 0;
        for (TensorView part : parts) {
            rows += Math.toIntExact(part.rows());
        }
        float[] scales = new float[rows];
        int at = 0;
        for (TensorView part : parts) {
            for (int r = 0; r < part.rows(); r++) {
                scales[at++] = part.rowScale(r);
            }
        }
        return uploadFloats(name + " row scales", scales);
    }

    /** A norm or bias as float32 on the device; null stays null. */
    private DeviceBuffer vector(TensorView view) {
        if (view == null) {
            return null;
        }
        return uploadFloats(view.name(), floats(view));
    }

    private DeviceBuffer uploadFloats(String name, float[] values) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(4L * values.length);
            MemorySegment.copy(values, 0, host, FLOAT, 0, values.length);
            return upload(name, host);
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
        DeviceBuffer buffer = allocate(name, host.byteSize());
        buffer.copyFrom(host, stream);
        return buffer;
    }

    private DeviceBuffer allocate(String name, long bytes) {
        return allocations.allocate(bytes, "'" + name + "'");
    }

    /** Whether every matrix the layers multiply with (not the LM head) is of one of {@code types}. */
    boolean layerMatricesAllOf(java.util.Set<GgmlType> types) {
        List<DeviceMatrix> matrices = new ArrayList<>();
        for (Layer layer : layers) {
            matrices.addAll(layer.qkv());
            matrices.addAll(layer.gateUp());
            matrices.add(layer.attentionOutput());
            matrices.add(layer.ffnDown());
        }
        return matrices.stream().allMatch(m -> types.contains(m.type));
    }

    /** Device bytes held. */
    long byteSize() {
        return allocations.byteSize();
    }

    @Override
    public void close() {
        allocations.close();
    }
}
