package io.panllm.kernels;

/** A cuBLAS call returned an error status; {@link #result()} is the cublasStatus_t. */
public final class CublasException extends CudaException {
    public CublasException(int status, String message) {
        super(status, message);
    }
}
