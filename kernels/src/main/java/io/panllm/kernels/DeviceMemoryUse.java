package io.panllm.kernels;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Device memory this process holds through {@link DeviceBuffer}s (weights, KV caches, activations,
 * scratch), and its high-water mark since the last {@link #resetPeak}: the "peak GPU memory" that
 * {@code bench} and {@code compare} report. It leaves out what the driver keeps for the context
 * and what cuBLAS allocates for itself (a few hundred MiB, the same for every model).
 */
public final class DeviceMemoryUse {
    private static final AtomicLong CURRENT = new AtomicLong();
    private static final AtomicLong PEAK = new AtomicLong();

    private DeviceMemoryUse() {
    }

    static void allocated(long bytes) {
        long now = CURRENT.addAndGet(bytes);
        PEAK.accumulateAndGet(now, Math::max);
    }

    static void freed(long bytes) {
        CURRENT.addAndGet(-bytes);
    }

    /** Bytes held now. */
    public static long currentBytes() {
        return CURRENT.get();
    }

    /** The most bytes held at once since the last reset (or since the process started). */
    public static long peakBytes() {
        return PEAK.get();
    }

    /** Starts a new high-water mark at what is held now. */
    public static void resetPeak() {
        PEAK.set(CURRENT.get());
    }
}
