package io.panllm.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The parameters of one launch, in the order of the kernel's .param list. Values live in the
 * caller's arena; the argument array is what cuLaunchKernel takes as {@code void** kernelParams}.
 * <pre>{@code
 * try (Arena arena = Arena.ofConfined()) {
 *     kernel.launch(stream, shape, new KernelArgs(arena).pointer(weights).pointer(x).pointer(y).i32(rows).i32(cols));
 * }
 * }</pre>
 */
public final class KernelArgs {
    private final Arena arena;
    private final List<MemorySegment> values = new ArrayList<>();
    private MemorySegment pointerArray; // built on first launch, so repeated launches allocate nothing

    public KernelArgs(Arena arena) {
        this.arena = arena;
    }

    /** A {@code .u64} device pointer: the buffer's address. */
    public KernelArgs pointer(DeviceBuffer buffer) {
        return u64(buffer.address());
    }

    public KernelArgs u64(long value) {
        return add(arena.allocateFrom(ValueLayout.JAVA_LONG, value));
    }

    /** A {@code .u32} or {@code .s32}. */
    public KernelArgs i32(int value) {
        return add(arena.allocateFrom(ValueLayout.JAVA_INT, value));
    }

    public KernelArgs f32(float value) {
        return add(arena.allocateFrom(ValueLayout.JAVA_FLOAT, value));
    }

    private KernelArgs add(MemorySegment value) {
        values.add(value);
        pointerArray = null;
        return this;
    }

    /** {@code void*[]}: one pointer per value. */
    MemorySegment pointerArray() {
        if (pointerArray == null) {
            pointerArray = arena.allocate(ValueLayout.ADDRESS, Math.max(1, values.size()));
            for (int i = 0; i < values.size(); i++) {
                pointerArray.setAtIndex(ValueLayout.ADDRESS, i, values.get(i));
            }
        }
        return pointerArray;
    }
}
