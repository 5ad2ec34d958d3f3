package io.panllm.kernels;

import io.panllm.cuda.bindings.cuda_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A captured sequence of launches and copies ({@link CudaStream#capture}), instantiated once and
 * replayed with one launch: a decode step's hundreds of kernels without the per-launch host cost.
 */
public final class CudaGraph implements AutoCloseable {
    private final MemorySegment graph;
    private final MemorySegment executable;
    private boolean closed;

    private CudaGraph(MemorySegment graph, MemorySegment executable) {
        this.graph = graph;
        this.executable = executable;
    }

    static CudaGraph instantiate(MemorySegment graph) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment holder = arena.allocate(ValueLayout.ADDRESS);
            int result = cuda_h.cuGraphInstantiateWithFlags(holder, graph, 0L);
            if (result != cuda_h.CUDA_SUCCESS()) {
                cuda_h.cuGraphDestroy(graph);
                CudaException.check(result, "cuGraphInstantiate");
            }
            return new CudaGraph(graph, holder.get(ValueLayout.ADDRESS, 0));
        }
    }

    /** Number of nodes (kernels, copies, memsets) captured. */
    public int nodeCount() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(ValueLayout.JAVA_LONG);
            CudaException.check(cuda_h.cuGraphGetNodes(graph, MemorySegment.NULL, count), "cuGraphGetNodes");
            return Math.toIntExact(count.get(ValueLayout.JAVA_LONG, 0));
        }
    }

    /** Enqueues one replay of the whole graph on {@code stream}. */
    public void launch(CudaStream stream) {
        if (closed) {
            throw new IllegalStateException("graph already destroyed");
        }
        CudaException.check(cuda_h.cuGraphLaunch(executable, stream.handle()), "cuGraphLaunch");
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            CudaException.check(cuda_h.cuGraphExecDestroy(executable), "cuGraphExecDestroy");
            CudaException.check(cuda_h.cuGraphDestroy(graph), "cuGraphDestroy");
        }
    }
}
