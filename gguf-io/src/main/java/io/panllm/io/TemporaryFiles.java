package io.panllm.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The temporary files this process is writing, deleted when it ends before they were committed:
 * by an exception that reaches the top, by System.exit, or by SIGINT / SIGTERM (one JVM shutdown
 * hook, installed on first use). Writers register a file when they create it and deregister it
 * once it was renamed into place or deleted. A SIGKILL runs no code at all: what it leaves behind
 * the next writer of the same target removes ({@link AtomicFile}).
 */
public final class TemporaryFiles {
    private static final Set<Path> PENDING = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(TemporaryFiles::deleteAll, "panllm-temporary-files"));
    }

    private TemporaryFiles() {
    }

    public static void register(Path file) {
        PENDING.add(file);
    }

    public static void deregister(Path file) {
        PENDING.remove(file);
    }

    /**
     * Deletes every registered file: the shutdown hook does, and so must code that ends the JVM with
     * Runtime.halt (which runs no hooks), such as a second Ctrl-C.
     */
    public static void deleteAll() {
        for (Path p : PENDING) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException | RuntimeException e) {
                // shutting down: nothing better to do than to try the others
            }
        }
        PENDING.clear();
    }
}
