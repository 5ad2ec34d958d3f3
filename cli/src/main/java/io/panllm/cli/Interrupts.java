package io.panllm.cli;

import io.panllm.io.TemporaryFiles;
import java.util.concurrent.atomic.AtomicBoolean;
import sun.misc.Signal;

/**
 * Ctrl-C handling for long commands: the first Ctrl-C sets a flag the command polls between
 * steps (so it can stop cleanly and leave no partial output); a second one exits at once.
 */
final class Interrupts {
    private static final AtomicBoolean REQUESTED = new AtomicBoolean();

    private Interrupts() {
    }

    /** Installs the handler; {@code onFirst} runs on the first Ctrl-C (e.g. a generator's cancel). */
    static void install(Runnable onFirst) {
        REQUESTED.set(false);
        try {
            Signal.handle(new Signal("INT"), signal -> {
                if (REQUESTED.getAndSet(true)) {
                    TemporaryFiles.deleteAll(); // halt runs no shutdown hooks
                    Runtime.getRuntime().halt(ExitCodes.INTERRUPTED);
                }
                System.err.println("\n[interrupted: stopping; Ctrl-C again to quit at once]");
                onFirst.run();
            });
        } catch (IllegalArgumentException e) {
            // No SIGINT on this platform or it is reserved: Ctrl-C then ends the JVM as usual.
        }
    }

    static boolean requested() {
        return REQUESTED.get();
    }
}
