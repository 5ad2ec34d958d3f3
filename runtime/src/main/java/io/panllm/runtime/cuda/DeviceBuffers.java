package io.panllm.runtime.cuda;

import io.panllm.kernels.CudaContext;
import io.panllm.kernels.CudaException;
import io.panllm.kernels.DeviceBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The device buffers one owner (the weights, a KV cache, the prefill's scratch) allocates and
 * frees together. Running out of device memory becomes a {@link GpuMemoryException} that says
 * how much was asked for and what for.
 */
final class DeviceBuffers implements AutoCloseable {
    /** CUDA_ERROR_OUT_OF_MEMORY */
    private static final int OUT_OF_MEMORY = 2;

    private final CudaContext context;
    private final List<DeviceBuffer> buffers = new ArrayList<>();

    DeviceBuffers(CudaContext context) {
        this.context = context;
    }

    /** @param purpose completes "out of GPU memory allocating 64.00 MiB for ..." */
    DeviceBuffer allocate(long bytes, String purpose) {
        try {
            DeviceBuffer buffer = context.allocate(bytes);
            buffers.add(buffer);
            return buffer;
        } catch (CudaException e) {
            if (e.result() == OUT_OF_MEMORY) {
                throw new GpuMemoryException("out of GPU memory allocating " + GpuMemoryException.mebibytes(bytes) + " for "
                        + purpose, e);
            }
            throw e;
        }
    }

    /** Frees one buffer before the others (a scratch buffer replaced by a larger one). */
    void free(DeviceBuffer buffer) {
        buffers.remove(buffer);
        buffer.close();
    }

    /** Device bytes held. */
    long byteSize() {
        long bytes = 0;
        for (DeviceBuffer b : buffers) {
            bytes += b.byteSize();
        }
        return bytes;
    }

    @Override
    public void close() {
        for (DeviceBuffer b : buffers) {
            b.close();
        }
        buffers.clear();
    }
}
