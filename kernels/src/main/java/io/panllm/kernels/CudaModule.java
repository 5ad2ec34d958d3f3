package io.panllm.kernels;

import io.panllm.cuda.bindings.cuda_h;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A PTX module JIT-compiled by the driver for the current context's device. Load failures carry
 * the PTX assembler's error log (line numbers refer to the .ptx resource).
 */
public final class CudaModule implements AutoCloseable {
    private static final int LOG_BYTES = 16 * 1024;

    private final String name;
    private final MemorySegment module;
    private final String jitLog;
    private boolean closed;

    private CudaModule(String name, MemorySegment module, String jitLog) {
        this.name = name;
        this.module = module;
        this.jitLog = jitLog;
    }

    /**
     * Loads one module made of the PTX texts of class-path resources, in order: a prelude such as
     * {@code io/panllm/kernels/common.ptx} (version, target, shared helpers) first, then kernels.
     * The JIT's line numbers count from the first line of the first resource.
     */
    public static CudaModule loadResources(String... resources) {
        ByteArrayOutputStream ptx = new ByteArrayOutputStream();
        for (String resource : resources) {
            try (InputStream in = CudaModule.class.getClassLoader().getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalArgumentException("PTX resource not on the class path: " + resource);
                }
                in.transferTo(ptx);
                ptx.write('\n');
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read PTX resource " + resource, e);
            }
        }
        return load(String.join(" + ", resources), ptx.toByteArray());
    }

    /** JIT-compiles {@code ptx} (text, without the terminating NUL); {@code name} is for messages. */
    public static CudaModule load(String name, byte[] ptx) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment image = arena.allocate(ptx.length + 1L);
            MemorySegment.copy(ptx, 0, image, ValueLayout.JAVA_BYTE, 0, ptx.length);
            MemorySegment errorLog = arena.allocate(LOG_BYTES);
            MemorySegment infoLog = arena.allocate(LOG_BYTES);
            // Option values are void*: sizes and flags are passed as the pointer's value itself.
            int[] options = {
                    cuda_h.CU_JIT_ERROR_LOG_BUFFER(), cuda_h.CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES(),
                    cuda_h.CU_JIT_INFO_LOG_BUFFER(), cuda_h.CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES(),
                    cuda_h.CU_JIT_LOG_VERBOSE()};
            MemorySegment[] values = {
                    errorLog, MemorySegment.ofAddress(LOG_BYTES),
                    infoLog, MemorySegment.ofAddress(LOG_BYTES),
                    MemorySegment.ofAddress(1)};
            MemorySegment optionArray = arena.allocateFrom(ValueLayout.JAVA_INT, options);
            MemorySegment valueArray = arena.allocate(ValueLayout.ADDRESS, values.length);
            for (int i = 0; i < values.length; i++) {
                valueArray.setAtIndex(ValueLayout.ADDRESS, i, values[i]);
            }
            MemorySegment holder = arena.allocate(ValueLayout.ADDRESS);
            int result = cuda_h.cuModuleLoadDataEx(holder, image, options.length, optionArray, valueArray);
            if (result != cuda_h.CUDA_SUCCESS()) {
                throw new CudaException(result, "cuModuleLoadDataEx(" + name + ") failed: " + CudaException.describe(result)
                        + "\nPTX assembler log:\n" + errorLog.getString(0) + infoLog.getString(0));
            }
            return new CudaModule(name, holder.get(ValueLayout.ADDRESS, 0), infoLog.getString(0));
        }
    }

    /** The JIT's verbose log (registers, spills per kernel). */
    public String jitLog() {
        return jitLog;
    }

    /** The kernel (an .entry) named {@code entryName}. */
    public CudaKernel kernel(String entryName) {
        if (closed) {
            throw new IllegalStateException("module " + name + " already unloaded");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment holder = arena.allocate(ValueLayout.ADDRESS);
            CudaException.check(cuda_h.cuModuleGetFunction(holder, module, arena.allocateFrom(entryName)),
                    "cuModuleGetFunction(" + name + ", " + entryName + ")");
            return new CudaKernel(entryName, holder.get(ValueLayout.ADDRESS, 0));
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            CudaException.check(cuda_h.cuModuleUnload(module), "cuModuleUnload(" + name + ")");
        }
    }
}
