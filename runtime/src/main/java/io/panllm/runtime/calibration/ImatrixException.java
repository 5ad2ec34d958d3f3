package io.panllm.runtime.calibration;

/** An imatrix file that cannot be read or does not fit the model it is used with. */
public final class ImatrixException extends RuntimeException {
    public ImatrixException(String message) {
        super(message);
    }
}
