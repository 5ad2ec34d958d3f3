package io.panllm.runtime.cuda;

import io.panllm.runtime.model.ModelException;

/** The GPU has too little free memory for what was asked (the weights, a KV cache): says how much was needed and free. */
public final class GpuMemoryException extends ModelException {
    public GpuMemoryException(String message) {
        super(message);
    }

    public GpuMemoryException(String message, Throwable cause) {
        super(message, cause);
    }

    /** "1234.5 MiB" */
    static String mebibytes(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
    }
}
