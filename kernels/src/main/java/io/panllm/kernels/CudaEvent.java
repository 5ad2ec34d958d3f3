package io.panllm.kernels;

import io.panllm.cuda.bindings.cuda_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** A marker in a stream: for timing device work and for ordering work across streams. */
public final class CudaEvent implements AutoCloseable {
    private final MemorySegment event;
    private boolean closed;

    private CudaEvent(MemorySegment event) {
        this.event = event;
    }

    static CudaEvent create() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment holder = arena.allocate(ValueLayout.ADDRESS);
            CudaException.check(cuda_h.cuEventCreate(holder, cuda_h.CU_EVENT_DEFAULT()), "cuEventCreate");
            return new CudaEvent(holder.get(ValueLayout.ADDRESS, 0));
        }
    }

    public MemorySegment handle() {
        if (closed) {
            throw new IllegalStateException("event already destroyed");
        }
        return event;
    }

    /** Enqueues this event on {@code stream}: it completes when the work before it has. */
    public void record(CudaStream stream) {
        CudaException.check(cuda_h.cuEventRecord(handle(), stream.handle()), "cuEventRecord");
    }

    public void synchronize() {
        CudaException.check(cuda_h.cuEventSynchronize(handle()), "cuEventSynchronize");
    }

    /** Device time from {@code start} to this event, both recorded and completed (about 0.5 us resolution). */
    public float millisSince(CudaEvent start) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment millis = arena.allocate(ValueLayout.JAVA_FLOAT);
            CudaException.check(cuda_h.cuEventElapsedTime_v2(millis, start.handle(), handle()), "cuEventElapsedTime");
            return millis.get(ValueLayout.JAVA_FLOAT, 0);
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            CudaException.check(cuda_h.cuEventDestroy_v2(event), "cuEventDestroy");
        }
    }
}
