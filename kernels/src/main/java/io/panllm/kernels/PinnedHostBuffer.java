package io.panllm.kernels;

import io.panllm.cuda.bindings.cuda_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Page-locked host memory (cuMemHostAlloc): the host side of asynchronous copies, which with
 * pageable memory would silently become synchronous. Its segment is invalid after {@link #close()}.
 */
public final class PinnedHostBuffer implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment hostPointer;
    private final MemorySegment segment;

    private PinnedHostBuffer(MemorySegment hostPointer, long byteSize) {
        this.hostPointer = hostPointer;
        // The segment's lifetime is tied to our arena, so it cannot be read after cuMemFreeHost.
        this.segment = hostPointer.reinterpret(byteSize, arena, null);
    }

    /** Allocates {@code byteSize} pinned bytes in the current context. */
    public static PinnedHostBuffer allocate(long byteSize) {
        if (byteSize <= 0) {
            throw new IllegalArgumentException("pinned allocation of " + byteSize + " bytes");
        }
        try (Arena temporary = Arena.ofConfined()) {
            MemorySegment pointer = temporary.allocate(ValueLayout.ADDRESS);
            CudaException.check(cuda_h.cuMemHostAlloc(pointer, byteSize, 0), "cuMemHostAlloc(" + byteSize + " bytes)");
            return new PinnedHostBuffer(pointer.get(ValueLayout.ADDRESS, 0), byteSize);
        }
    }

    public MemorySegment segment() {
        return segment;
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
            CudaException.check(cuda_h.cuMemFreeHost(hostPointer), "cuMemFreeHost");
        }
    }
}
