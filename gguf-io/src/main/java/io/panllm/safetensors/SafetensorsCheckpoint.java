package io.panllm.safetensors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * All the safetensors files of one checkpoint seen as one set of tensors: a single file, a
 * directory with {@code model.safetensors}, or a sharded directory whose
 * {@code model.safetensors.index.json} maps each tensor name to its shard ({@code weight_map}).
 * Owns the files it opened; tensor slices stay valid until {@link #close()}.
 */
public final class SafetensorsCheckpoint implements AutoCloseable {
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";
    private static final long MAX_INDEX_BYTES = 64L << 20;

    private final Path location;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsTensor> tensors;

    private SafetensorsCheckpoint(Path location, List<SafetensorsFile> files, Map<String, SafetensorsTensor> tensors) {
        this.location = location;
        this.files = List.copyOf(files);
        this.tensors = Collections.unmodifiableMap(tensors);
    }

    /** Opens a .safetensors file or a checkpoint directory (sharded or not). */
    public static SafetensorsCheckpoint open(Path location) {
        if (!Files.isDirectory(location)) {
            return fromFiles(location, List.of(location));
        }
        Path index = location.resolve(INDEX_FILE);
        if (Files.isRegularFile(index)) {
            return fromFiles(location, shardsOf(index));
        }
        Path single = location.resolve(SINGLE_FILE);
        if (Files.isRegularFile(single)) {
            return fromFiles(location, List.of(single));
        }
        throw new SafetensorsException(location + ": no " + SINGLE_FILE + " or " + INDEX_FILE + " in this directory");
    }

    /** The shard files an index names, in first-mention order. */
    static List<Path> shardsOf(Path index) {
        JsonNode root;
        try {
            if (Files.size(index) > MAX_INDEX_BYTES) {
                throw new SafetensorsException(index + ": " + Files.size(index) + " bytes is too large for an index");
            }
            root = new ObjectMapper().readTree(index.toFile());
        } catch (JacksonException e) {
            throw new SafetensorsException(index + ": not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new SafetensorsException(index + ": cannot read: " + e.getMessage(), e);
        }
        JsonNode weightMap = root == null ? null : root.get("weight_map");
        if (weightMap == null || !weightMap.isObject()) {
            throw new SafetensorsException(index + ": no weight_map object");
        }
        Path dir = index.toAbsolutePath().getParent();
        List<Path> shards = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = weightMap.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String file = e.getValue().isTextual() ? e.getValue().textValue() : null;
            if (file == null || file.contains("/") || file.contains("\\") || file.startsWith(".")) {
                throw new SafetensorsException(index + ": weight_map entry '" + e.getKey() + "' names " + e.getValue()
                        + ", not a file in this directory");
            }
            Path shard = dir.resolve(file);
            if (!shards.contains(shard)) {
                shards.add(shard);
            }
        }
        return shards;
    }

    private static SafetensorsCheckpoint fromFiles(Path location, List<Path> paths) {
        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            Map<String, SafetensorsTensor> byName = new LinkedHashMap<>();
            for (Path p : paths) {
                SafetensorsFile f = SafetensorsFile.open(p);
                opened.add(f);
                for (SafetensorsTensor t : f.tensors().values()) {
                    if (byName.putIfAbsent(t.name(), t) != null) {
                        throw new SafetensorsException(p + ": tensor '" + t.name() + "' is also in another shard");
                    }
                }
            }
            return new SafetensorsCheckpoint(location, opened, byName);
        } catch (RuntimeException e) {
            opened.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    public Path location() {
        return location;
    }

    public List<SafetensorsFile> files() {
        return files;
    }

    /** Every tensor of every shard, in shard then header order. */
    public Map<String, SafetensorsTensor> tensors() {
        return tensors;
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** @throws SafetensorsException when no shard holds it */
    public SafetensorsTensor tensor(String name) {
        SafetensorsTensor t = tensors.get(name);
        if (t == null) {
            throw new SafetensorsException(location + ": checkpoint has no tensor '" + name + "'");
        }
        return t;
    }

    /** The {@code __metadata__} of the first file (shards repeat it). */
    public Map<String, String> metadata() {
        return files.isEmpty() ? Map.of() : files.get(0).metadata();
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }
}
