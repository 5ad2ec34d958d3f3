package io.panllm.runtime.compare;

import io.panllm.io.AtomicFile;
import java.io.IOException;
import java.nio.file.Path;

/** Writes a report file through a temporary one beside it (see {@link AtomicFile}). */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    public static void write(Path target, byte[] content) throws IOException {
        AtomicFile.write(target, content);
    }
}
