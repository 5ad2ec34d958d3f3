package io.panllm.kernels;

import io.panllm.cuda.bindings.cuda_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** A CUDA driver call returned an error: carries the CUresult, its name and the driver's message. */
public class CudaException extends RuntimeException {
    private final int result;

    public CudaException(int result, String message) {
        super(message);
        this.result = result;
    }

    /** The raw CUresult (e.g. 2 = CUDA_ERROR_OUT_OF_MEMORY). */
    public int result() {
        return result;
    }

    /** Throws unless {@code result} is CUDA_SUCCESS; {@code call} names the call for the message. */
    static void check(int result, String call) {
        if (result != cuda_h.CUDA_SUCCESS()) {
            throw new CudaException(result, call + " failed: " + describe(result));
        }
    }

    /** "CUDA_ERROR_OUT_OF_MEMORY (2): out of memory", from cuGetErrorName and cuGetErrorString. */
    static String describe(int result) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment text = arena.allocate(ValueLayout.ADDRESS);
            String name = cuda_h.cuGetErrorName(result, text) == cuda_h.CUDA_SUCCESS()
                    ? cString(text) : "unknown CUresult";
            String message = cuda_h.cuGetErrorString(result, text) == cuda_h.CUDA_SUCCESS()
                    ? cString(text) : "no description";
            return name + " (" + result + "): " + message;
        }
    }

    private static String cString(MemorySegment pointerToString) {
        return pointerToString.get(ValueLayout.ADDRESS, 0).reinterpret(4096).getString(0);
    }
}
