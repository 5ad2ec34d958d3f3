package io.panllm.kernels;

import io.panllm.cuda.bindings.cuda_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The primary context of one device, made current on the opening thread. Everything allocated,
 * loaded or launched through it belongs to this device. A thread other than the opener calls
 * {@link #makeCurrent()} first. Closing releases the primary context (the driver destroys it when
 * the last holder lets go, freeing what is still allocated).
 */
public final class CudaContext implements AutoCloseable {
    private final CudaDevice device;
    private final MemorySegment context;
    private boolean closed;

    private CudaContext(CudaDevice device, MemorySegment context) {
        this.device = device;
        this.context = context;
    }

    /**
     * Opens the primary context of device {@code ordinal}.
     *
     * @throws CudaUnavailableException where there is no driver or no such device
     */
    public static CudaContext open(int ordinal) {
        CudaDevice device = CudaDevice.get(ordinal);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment holder = arena.allocate(ValueLayout.ADDRESS);
            CudaException.check(cuda_h.cuDevicePrimaryCtxRetain(holder, device.handle()), "cuDevicePrimaryCtxRetain");
            CudaContext context = new CudaContext(device, holder.get(ValueLayout.ADDRESS, 0));
            context.makeCurrent();
            return context;
        }
    }

    public CudaDevice device() {
        return device;
    }

    /** Binds this context to the calling thread. */
    public void makeCurrent() {
        CudaException.check(cuda_h.cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    /** Waits for all work on all streams of this context; reports errors of earlier launches. */
    public void synchronize() {
        CudaException.check(cuda_h.cuCtxSynchronize(), "cuCtxSynchronize");
    }

    /** Free and total device memory in bytes. */
    public MemoryInfo memoryInfo() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment free = arena.allocate(ValueLayout.JAVA_LONG);
            MemorySegment total = arena.allocate(ValueLayout.JAVA_LONG);
            CudaException.check(cuda_h.cuMemGetInfo_v2(free, total), "cuMemGetInfo");
            return new MemoryInfo(free.get(ValueLayout.JAVA_LONG, 0), total.get(ValueLayout.JAVA_LONG, 0));
        }
    }

    /** @param freeBytes device memory not allocated by anyone  @param totalBytes device memory */
    public record MemoryInfo(long freeBytes, long totalBytes) {
    }

    /** Uninitialized device memory of {@code byteSize} bytes (cuMemAlloc: 256-byte aligned). */
    public DeviceBuffer allocate(long byteSize) {
        return DeviceBuffer.allocate(byteSize);
    }

    /** A new non-blocking stream (it does not synchronize with the legacy default stream). */
    public CudaStream createStream() {
        return CudaStream.create();
    }

    /** A new timing event. */
    public CudaEvent createEvent() {
        return CudaEvent.create();
    }

    /** Loads one PTX module from class-path resources, see {@link CudaModule#loadResources}. */
    public CudaModule loadModule(String... ptxResources) {
        return CudaModule.loadResources(ptxResources);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            CudaException.check(cuda_h.cuDevicePrimaryCtxRelease_v2(device.handle()), "cuDevicePrimaryCtxRelease");
        }
    }
}
