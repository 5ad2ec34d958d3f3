package io.panllm.cli;

import java.io.PrintStream;
import java.time.Duration;

/**
 * A one-line progress bar on stderr with an ETA. On a terminal it redraws in place; otherwise
 * (a pipe, a CI log) it prints a line at most every few seconds so logs stay short.
 */
final class ProgressBar {
    private final PrintStream err;
    private final String label;
    private final boolean interactive;
    private final long startNanos = System.nanoTime();
    private long lastPrintNanos;
    private int lastLength;

    ProgressBar(String label) {
        this(System.err, label, System.console() != null);
    }

    ProgressBar(PrintStream err, String label, boolean interactive) {
        this.err = err;
        this.label = label;
        this.interactive = interactive;
    }

    /** Shows {@code done} of {@code total} (any unit) with a free-text detail. */
    synchronized void update(double done, double total, String detail) {
        long now = System.nanoTime();
        boolean finished = done >= total;
        if (!finished && now - lastPrintNanos < (interactive ? 100_000_000L : 5_000_000_000L)) {
            return;
        }
        lastPrintNanos = now;
        double fraction = total <= 0 ? 1 : Math.min(1, done / total);
        double elapsed = (now - startNanos) / 1e9;
        String eta = fraction > 0.001 && !finished ? " ETA " + clock(elapsed / fraction - elapsed) : finished ? " " + clock(elapsed) : "";
        int width = 30;
        int filled = (int) Math.round(fraction * width);
        String line = String.format("%s [%s%s] %3.0f%% %s%s", label, "=".repeat(filled), " ".repeat(width - filled),
                fraction * 100, detail, eta);
        if (interactive) {
            err.print("\r" + line + " ".repeat(Math.max(0, lastLength - line.length())));
            lastLength = line.length();
            if (finished) {
                err.println();
            }
        } else {
            err.println(line);
        }
        err.flush();
    }

    /** Ends an interactive line early (on error or interrupt). */
    synchronized void close() {
        if (interactive && lastLength > 0) {
            err.println();
            lastLength = 0;
        }
    }

    static String clock(double seconds) {
        Duration d = Duration.ofMillis((long) (Math.max(0, seconds) * 1000));
        return d.toHours() > 0 ? String.format("%d:%02d:%02d", d.toHours(), d.toMinutesPart(), d.toSecondsPart())
                : String.format("%02d:%02d", d.toMinutesPart(), d.toSecondsPart());
    }
}
