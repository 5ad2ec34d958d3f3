package io.panllm.kernels;

/**
 * No usable CUDA installation on this machine: the driver or cuBLAS library was not found, could
 * not be loaded, or reports no device. Callers fall back to the CPU (or skip GPU tests) on this.
 */
public final class CudaUnavailableException extends RuntimeException {
    public CudaUnavailableException(String message) {
        super(message);
    }

    public CudaUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
