package io.panllm.kernels;

import io.panllm.cuda.bindings.cuda_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** An in-order queue of device work. Launches and async copies name the stream they go on. */
public final class CudaStream implements AutoCloseable {
    private final MemorySegment stream;
    private boolean closed;

    private CudaStream(MemorySegment stream) {
        this.stream = stream;
    }

    static CudaStream create() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment holder = arena.allocate(ValueLayout.ADDRESS);
            CudaException.check(cuda_h.cuStreamCreate(holder, cuda_h.CU_STREAM_NON_BLOCKING()), "cuStreamCreate");
            return new CudaStream(holder.get(ValueLayout.ADDRESS, 0));
        }
    }

    /** The CUstream handle. */
    public MemorySegment handle() {
        if (closed) {
            throw new IllegalStateException("stream already destroyed");
        }
        return stream;
    }

    /** Waits until everything enqueued so far has run; reports errors of earlier launches. */
    public void synchronize() {
        CudaException.check(cuda_h.cuStreamSynchronize(handle()), "cuStreamSynchronize");
    }

    /** Makes later work on this stream wait for {@code event} (recorded on any stream). */
    public void waitFor(CudaEvent event) {
        CudaException.check(cuda_h.cuStreamWaitEvent(handle(), event.handle(), 0), "cuStreamWaitEvent");
    }

    /**
     * Records what {@code work} enqueues on this stream into a graph instead of running it, and
     * returns it instantiated, ready to {@link CudaGraph#launch replay}. Kernel arguments are
     * captured by value: to vary an input between replays, keep it in device memory (e.g. the
     * position of a decode step) and update that buffer before the replay.
     */
    public CudaGraph capture(Runnable work) {
        CudaException.check(cuda_h.cuStreamBeginCapture_v2(handle(), cuda_h.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL()),
                "cuStreamBeginCapture");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment graphHolder = arena.allocate(ValueLayout.ADDRESS);
            try {
                work.run();
            } catch (RuntimeException e) {
                // End the capture so the stream is usable again, then drop the partial graph.
                if (cuda_h.cuStreamEndCapture(stream, graphHolder) == cuda_h.CUDA_SUCCESS()) {
                    cuda_h.cuGraphDestroy(graphHolder.get(ValueLayout.ADDRESS, 0));
                }
                throw e;
            }
            CudaException.check(cuda_h.cuStreamEndCapture(stream, graphHolder), "cuStreamEndCapture");
            return CudaGraph.instantiate(graphHolder.get(ValueLayout.ADDRESS, 0));
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            CudaException.check(cuda_h.cuStreamDestroy_v2(stream), "cuStreamDestroy");
        }
    }
}
