package io.panllm.runtime.cuda;

import io.panllm.runtime.model.ModelException;

/**
 * The model has something the CUDA backend cannot compute yet (a tensor type without a GPU
 * kernel, an unusual head size). It is refused by name rather than computed wrongly; the CPU
 * backend can run it, and {@code --device auto} falls back to the CPU on this exception.
 */
public final class UnsupportedOnGpuException extends ModelException {
    public UnsupportedOnGpuException(String what) {
        super(what + ": not yet on CUDA; use --device cpu");
    }
}
