package io.panllm.runtime.compare;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Finished formats of a comparison, one JSON file each ({@code cache/<type>.json} in the report
 * folder) holding the result and the key it was measured under ({@link StudySettings#cacheKey}).
 * A re-run with the same key reuses the result; any other key, or an unreadable file, means the
 * format is measured again. Failed measurements are not stored: they are retried.
 */
final class ResultCache {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** What one cache file holds. */
    record Entry(Map<String, Object> key, FormatResult result) {
    }

    private final Path dir;

    ResultCache(Path dir) {
        this.dir = dir;
    }

    Path fileFor(String label) {
        return dir.resolve(label + ".json");
    }

    Optional<FormatResult> find(String label, Map<String, Object> key) {
        Path file = fileFor(label);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            Entry entry = JSON.readValue(file.toFile(), Entry.class);
            return key.equals(entry.key()) && entry.result() != null ? Optional.of(entry.result()) : Optional.empty();
        } catch (JacksonException e) {
            return Optional.empty(); // a file from another version: measure again
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    void store(String label, Map<String, Object> key, FormatResult result) throws IOException {
        AtomicFiles.write(fileFor(label), JSON.writeValueAsBytes(new Entry(key, result)));
    }
}
