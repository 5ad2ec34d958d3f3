package io.panllm.kernels;

import io.panllm.cuda.bindings.cuda_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** One kernel of a loaded {@link CudaModule}; valid while the module is loaded. */
public final class CudaKernel {
    private final String name;
    private final MemorySegment function;

    CudaKernel(String name, MemorySegment function) {
        this.name = name;
        this.function = function;
    }

    public String name() {
        return name;
    }

    /**
     * Enqueues one launch on {@code stream}. The driver copies the argument values, so
     * {@code args} may be changed or freed right after.
     */
    public void launch(CudaStream stream, LaunchShape shape, KernelArgs args) {
        CudaException.check(cuda_h.cuLaunchKernel(function,
                        shape.gridX(), shape.gridY(), shape.gridZ(),
                        shape.blockX(), shape.blockY(), shape.blockZ(),
                        shape.sharedBytes(), stream.handle(), args.pointerArray(), MemorySegment.NULL),
                "cuLaunchKernel(" + name + ", " + shape + ")");
    }

    /** cuFuncGetAttribute for any CU_FUNC_ATTRIBUTE_* constant. */
    public int attribute(int attribute) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(ValueLayout.JAVA_INT);
            CudaException.check(cuda_h.cuFuncGetAttribute(value, attribute, function), "cuFuncGetAttribute(" + name + ")");
            return value.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /** Registers per thread, as the JIT allocated them. */
    public int registers() {
        return attribute(cuda_h.CU_FUNC_ATTRIBUTE_NUM_REGS());
    }

    /** Bytes of local memory per thread (non-zero means spills or a register array with a run-time index). */
    public int localBytes() {
        return attribute(cuda_h.CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES());
    }

    /** Allows launches with more than 48 KiB of dynamic shared memory. */
    public void setMaxDynamicSharedBytes(int bytes) {
        CudaException.check(cuda_h.cuFuncSetAttribute(function, cuda_h.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES(),
                bytes), "cuFuncSetAttribute(" + name + ", max dynamic shared " + bytes + ")");
    }
}
