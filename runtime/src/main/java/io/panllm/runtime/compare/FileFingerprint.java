package io.panllm.runtime.compare;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Identifies a file's version cheaply (absolute path, size, modification time) without reading a
 * multi-gigabyte checkpoint. A directory (a Hugging Face checkpoint) is the sum of its files'
 * sizes and the newest of their times.
 */
final class FileFingerprint {
    private FileFingerprint() {
    }

    static String of(Path path) {
        try {
            Path absolute = path.toAbsolutePath().normalize();
            long size = 0;
            long modified = Files.getLastModifiedTime(absolute).toMillis();
            if (Files.isDirectory(absolute)) {
                try (Stream<Path> files = Files.list(absolute)) {
                    for (Path f : files.filter(Files::isRegularFile).toList()) {
                        size += Files.size(f);
                        modified = Math.max(modified, Files.getLastModifiedTime(f).toMillis());
                    }
                }
            } else {
                size = Files.size(absolute);
            }
            return absolute + " (" + size + " bytes, modified " + modified + ")";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
