package io.panllm.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process's peak resident memory (Linux VmHWM), reset between formats so that each format's
 * figure is its own: writing 5 to /proc/self/clear_refs (Linux 4.0+) sets the high-water mark to
 * the current resident size. Elsewhere the figures are -1 (unknown) or, when the reset is refused,
 * the peak since the process started (the report says which).
 */
public final class PeakMemory {
    private static final Path STATUS = Path.of("/proc/self/status");
    private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");

    private PeakMemory() {
    }

    /** Bytes in binary units, as the reports print sizes: "730.83 MiB". */
    public static String format(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(java.util.Locale.ROOT, "%.2f %s", v, units[u]);
    }

    /**
     * Resets the high-water mark, after a full collection so that the garbage of the formats
     * measured before (and the heap grown for it) counts as little as the collector allows;
     * false when this system does not allow the reset.
     */
    public static boolean reset() {
        System.gc();
        try {
            Files.writeString(CLEAR_REFS, "5");
            return true;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** Peak resident bytes since the last reset, -1 where unknown. */
    public static long residentSetPeakBytes() {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
