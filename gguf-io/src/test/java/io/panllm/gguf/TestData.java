package io.panllm.gguf;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates ../shared/data (set by surefire as the system property panllm.data). */
public final class TestData {
    private TestData() {
    }

    public static Path dir() {
        Path p = Path.of(System.getProperty("panllm.data", "../shared/data")).toAbsolutePath().normalize();
        if (!Files.isDirectory(p)) {
            throw new IllegalStateException("test data directory not found: " + p);
        }
        return p;
    }

    public static Path file(String relative) {
        return dir().resolve(relative);
    }
}
