package io.panllm.runtime.cuda;

import io.panllm.kernels.CudaContext;
import io.panllm.kernels.CudaGraph;
import io.panllm.kernels.DecodeKernels;
import io.panllm.kernels.DeviceBuffer;
import io.panllm.kernels.PinnedHostBuffer;
import io.panllm.runtime.backend.Backend;
import io.panllm.runtime.model.ModelConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * One sequence on the GPU: keys and values in float32 ({@code capacity x kvDim} per layer,
 * position-major), the activations of a decode step, and the step's two CUDA graphs (captured on
 * first use: every address they name belongs to this cache). The inputs of a step, the token id
 * and its position, live in {@link #stepInput} (two uint32), which is written before each replay.
 */
final class CudaKvCache implements Backend.KvCache {
    private final int capacity;
    private final CudaContext context;
    private final DeviceBuffers allocations;
    private final List<AutoCloseable> hostAndGraphs = new ArrayList<>();

    final DeviceBuffer[] keys;
    final DeviceBuffer[] values;
    /** token id (uint32) then position (uint32): the graph's only inputs. */
    final DeviceBuffer stepInput;
    final DeviceBuffer token;
    final DeviceBuffer position;
    final DeviceBuffer residual;
    final DeviceBuffer normed;
    /** q|k|v of the step's token, and views of the three parts. */
    final DeviceBuffer qkv;
    final DeviceBuffer query;
    final DeviceBuffer key;
    final DeviceBuffer value;
    final DeviceBuffer attention;
    final DeviceBuffer attentionPartials;
    final DeviceBuffer projected;
    /** gate|up of the feed-forward network, and views of the two halves. */
    final DeviceBuffer gateUp;
    final DeviceBuffer gate;
    final DeviceBuffer up;
    final DeviceBuffer logits;
    final DeviceBuffer argmax;
    /** The input of the GEMV at hand quantized to int8 blocks, for the dp4a kernels (DeviceMatrix). */
    final DeviceBuffer quantizedInput;
    /** (token, position) of each position of the context, pinned so that their copies can be queued. */
    final PinnedHostBuffer hostStepInputs;
    final PinnedHostBuffer hostLogits;
    final PinnedHostBuffer hostArgmax;

    /** Embedding and every layer: leaves the residual stream of the step's token. */
    CudaGraph layersGraph;
    /** Final norm and LM head: the logits of the step's token. */
    CudaGraph headGraph;

    CudaKvCache(ModelConfig config, int capacity, int attentionSplits, CudaContext context) {
        this.capacity = capacity;
        this.context = context;
        this.allocations = new DeviceBuffers(context);
        DecodeKernels.AttentionShape shape = CudaModel.attentionShape(config);
        long cacheBytes = 4L * capacity * config.kvDim();
        long needed = 2 * cacheBytes * config.blockCount();
        CudaContext.MemoryInfo memory = context.memoryInfo();
        if (needed > memory.freeBytes()) {
            throw new GpuMemoryException("a KV cache of " + capacity + " positions needs " + GpuMemoryException.mebibytes(needed)
                    + " of GPU memory, but only " + GpuMemoryException.mebibytes(memory.freeBytes())
                    + " are free; use a smaller context size");
        }
        try {
            keys = new DeviceBuffer[config.blockCount()];
            values = new DeviceBuffer[config.blockCount()];
            for (int l = 0; l < config.blockCount(); l++) {
                keys[l] = allocate(cacheBytes, "KV cache");
                values[l] = allocate(cacheBytes, "KV cache");
            }
            stepInput = allocate(8, "step input");
            token = stepInput.slice(0, 4);
            position = stepInput.slice(4, 4);
            int dim = config.embeddingLength();
            residual = floats(dim);
            normed = floats(dim);
            qkv = floats(config.queryDim() + 2 * config.kvDim());
            query = qkv.slice(0, 4L * config.queryDim());
            key = qkv.slice(4L * config.queryDim(), 4L * config.kvDim());
            value = qkv.slice(4L * (config.queryDim() + config.kvDim()), 4L * config.kvDim());
            attention = floats(config.queryDim());
            attentionPartials = allocate(DecodeKernels.partialBytes(shape, attentionSplits), "attention");
            projected = floats(dim);
            gateUp = floats(2 * config.feedForwardLength());
            gate = gateUp.slice(0, 4L * config.feedForwardLength());
            up = gateUp.slice(4L * config.feedForwardLength(), 4L * config.feedForwardLength());
            logits = floats(config.vocabSize());
            argmax = allocate(DecodeKernels.ARGMAX_BUFFER_BYTES, "argmax");
            int widest = Math.max(Math.max(dim, config.queryDim()), config.feedForwardLength());
            quantizedInput = allocate(io.panllm.kernels.Dp4aGemv.activationBytes((widest + 31) / 32 * 32), "activations");
            hostStepInputs = pinned(8L * capacity);
            hostLogits = pinned(4L * config.vocabSize());
            hostArgmax = pinned(4);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private DeviceBuffer floats(int count) {
        return allocate(4L * count, "activations");
    }

    private DeviceBuffer allocate(long bytes, String what) {
        return allocations.allocate(bytes, "the " + what + " (" + capacity + " positions); use a smaller context size");
    }

    private PinnedHostBuffer pinned(long bytes) {
        PinnedHostBuffer buffer = PinnedHostBuffer.allocate(bytes);
        hostAndGraphs.add(buffer);
        return buffer;
    }

    /** Remembers a graph so that {@link #close()} destroys it. */
    CudaGraph keep(CudaGraph graph) {
        hostAndGraphs.add(graph);
        return graph;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public void close() {
        context.makeCurrent(); // a session may be closed from another thread than the one that used it
        for (AutoCloseable c : hostAndGraphs) {
            try {
                c.close();
            } catch (Exception e) {
                throw new IllegalStateException("releasing a KV cache failed: " + e.getMessage(), e);
            }
        }
        hostAndGraphs.clear();
        allocations.close();
    }
}
