package io.panllm.kernels;

import io.panllm.cuda.bindings.cuda_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * A range of device memory: either an allocation (closing frees it) or a {@link #slice} of one
 * (closing does nothing; the allocation must outlive it). Quantized weights live here in their
 * GGUF block layout, one buffer per tensor or slices of one large buffer.
 *
 * <p>Host sides are {@link MemorySegment}s. Every copy is ordered on a stream (the kernels'
 * streams are non-blocking, so a copy on the legacy default stream would race with them); the
 * asynchronous ones overlap with other work only from pinned memory ({@link PinnedHostBuffer}),
 * and from pageable memory the driver stages the data before returning.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final long address;
    private final long byteSize;
    private final boolean owner;
    private boolean closed;

    private DeviceBuffer(long address, long byteSize, boolean owner) {
        this.address = address;
        this.byteSize = byteSize;
        this.owner = owner;
    }

    static DeviceBuffer allocate(long byteSize) {
        if (byteSize <= 0) {
            throw new IllegalArgumentException("device allocation of " + byteSize + " bytes");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pointer = arena.allocate(ValueLayout.JAVA_LONG);
            CudaException.check(cuda_h.cuMemAlloc_v2(pointer, byteSize), "cuMemAlloc(" + byteSize + " bytes)");
            DeviceMemoryUse.allocated(byteSize);
            return new DeviceBuffer(pointer.get(ValueLayout.JAVA_LONG, 0), byteSize, true);
        }
    }

    /** The device address (a CUdeviceptr), as passed to kernels. */
    public long address() {
        checkOpen();
        return address;
    }

    public long byteSize() {
        return byteSize;
    }

    /** A view of {@code byteSize} bytes from {@code offset}; it does not own memory. */
    public DeviceBuffer slice(long offset, long byteSize) {
        checkOpen();
        Objects.checkFromIndexSize(offset, byteSize, this.byteSize);
        return new DeviceBuffer(address + offset, byteSize, false);
    }

    /**
     * Copies all of {@code host} to the start of this buffer, in order on {@code stream} (after the
     * work already there), and waits for it. Any host segment will do.
     */
    public void copyFrom(MemorySegment host, CudaStream stream) {
        copyFromAsync(host, stream);
        stream.synchronize();
    }

    /** Copies the start of this buffer into all of {@code host}, in order on {@code stream}, and waits. */
    public void copyTo(MemorySegment host, CudaStream stream) {
        copyToAsync(host, stream);
        stream.synchronize();
    }

    /** Enqueues a host-to-device copy on {@code stream}; {@code host} must stay valid until it ran. */
    public void copyFromAsync(MemorySegment host, CudaStream stream) {
        checkFits(host.byteSize());
        CudaException.check(cuda_h.cuMemcpyHtoDAsync_v2(address, host, host.byteSize(), stream.handle()),
                "cuMemcpyHtoDAsync");
    }

    /** Enqueues a device-to-host copy on {@code stream}; read {@code host} after synchronizing. */
    public void copyToAsync(MemorySegment host, CudaStream stream) {
        checkFits(host.byteSize());
        CudaException.check(cuda_h.cuMemcpyDtoHAsync_v2(host, address, host.byteSize(), stream.handle()),
                "cuMemcpyDtoHAsync");
    }

    /** Enqueues a copy of all of {@code source} to the start of this buffer. */
    public void copyFromAsync(DeviceBuffer source, CudaStream stream) {
        checkFits(source.byteSize());
        CudaException.check(cuda_h.cuMemcpyDtoDAsync_v2(address, source.address(), source.byteSize(), stream.handle()),
                "cuMemcpyDtoDAsync");
    }

    /** Enqueues setting every 32-bit word to {@code bits} (e.g. {@code Float.floatToRawIntBits(Float.NaN)}). */
    public void fillWords(int bits, CudaStream stream) {
        checkOpen();
        if (byteSize % 4 != 0) {
            throw new IllegalArgumentException("fillWords needs a multiple of 4 bytes, buffer has " + byteSize);
        }
        CudaException.check(cuda_h.cuMemsetD32Async(address, bits, byteSize / 4, stream.handle()), "cuMemsetD32Async");
    }

    /** Enqueues setting every byte to {@code value}. */
    public void fillBytes(byte value, CudaStream stream) {
        checkOpen();
        CudaException.check(cuda_h.cuMemsetD8Async(address, value, byteSize, stream.handle()), "cuMemsetD8Async");
    }

    /** Throws IllegalArgumentException unless this buffer holds at least {@code bytes}; {@code what} names it. */
    public void requireAtLeast(long bytes, String what) {
        if (byteSize < bytes) {
            throw new IllegalArgumentException(what + ": device buffer of " + byteSize + " bytes, needs " + bytes);
        }
    }

    private void checkFits(long bytes) {
        checkOpen();
        if (bytes > byteSize) {
            throw new IllegalArgumentException("copy of " + bytes + " bytes into/out of a device buffer of " + byteSize);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("device buffer already freed");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (owner) {
                CudaException.check(cuda_h.cuMemFree_v2(address), "cuMemFree");
                DeviceMemoryUse.freed(byteSize);
            }
        }
    }
}
