package io.panllm.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Hugging Face checkpoint: one view over all its safetensors shards, tensors looked up by name.
 *
 * <p>{@link #open} takes a directory holding {@code model.safetensors.index.json} (sharded: its
 * {@code weight_map} maps every tensor name to a shard file in the same directory) or
 * {@code model.safetensors}; or the path of an index file or a single safetensors file. Every
 * tensor the index names must be in the shard it names; shard names must stay inside the
 * directory. Closing the checkpoint unmaps every shard.
 */
public final class SafetensorsCheckpoint implements AutoCloseable {

    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";
    private static final long MAX_INDEX_BYTES = 100_000_000L;

    private final Path path;
    private final List<SafetensorsFile> shards;
    private final Map<String, SafetensorsTensor> tensors;

    private SafetensorsCheckpoint(Path path, List<SafetensorsFile> shards, Map<String, SafetensorsTensor> tensors) {
        this.path = path;
        this.shards = List.copyOf(shards);
        this.tensors = Collections.unmodifiableMap(tensors);
    }

    /** Opens a checkpoint directory, an index file or a single safetensors file. */
    public static SafetensorsCheckpoint open(Path path) {
        if (Files.isDirectory(path)) {
            Path index = path.resolve(INDEX_FILE);
            if (Files.isRegularFile(index)) {
                return openIndex(index);
            }
            Path single = path.resolve(SINGLE_FILE);
            if (Files.isRegularFile(single)) {
                return openSingle(single);
            }
            throw new SafetensorsException(path + ": neither " + INDEX_FILE + " nor " + SINGLE_FILE + " in this directory");
        }
        if (path.getFileName() != null && path.getFileName().toString().endsWith(".index.json")) {
            return openIndex(path);
        }
        return openSingle(path);
    }

    private static SafetensorsCheckpoint openSingle(Path file) {
        return of(SafetensorsFile.open(file));
    }

    /** A checkpoint of one open file, which it takes over. */
    static SafetensorsCheckpoint of(SafetensorsFile shard) {
        Path file = shard.path();
        Map<String, SafetensorsTensor> byName = new LinkedHashMap<>();
        for (SafetensorsTensor t : shard.tensors()) {
            byName.put(t.name(), t);
        }
        return new SafetensorsCheckpoint(file, List.of(shard), byName);
    }

    private static SafetensorsCheckpoint openIndex(Path index) {
        Map<String, String> weightMap = readWeightMap(index);
        Path directory = index.toAbsolutePath().getParent();
        Map<String, SafetensorsFile> shardsByName = new LinkedHashMap<>();
        Map<String, SafetensorsTensor> byName = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                String shardName = e.getValue();
                SafetensorsFile shard = shardsByName.get(shardName);
                if (shard == null) {
                    shard = SafetensorsFile.open(shardPath(index, directory, shardName));
                    shardsByName.put(shardName, shard);
                }
                SafetensorsTensor t = shard.tensor(e.getKey());
                if (t == null) {
                    throw new SafetensorsException(index + ": weight_map puts tensor '" + e.getKey() + "' in "
                            + shardName + ", which does not hold it");
                }
                byName.put(e.getKey(), t);
            }
        } catch (RuntimeException e) {
            shardsByName.values().forEach(SafetensorsFile::close);
            throw e;
        }
        return new SafetensorsCheckpoint(index, new ArrayList<>(shardsByName.values()), byName);
    }

    /** A shard's path: a plain file name in the index's directory, never a way out of it. */
    private static Path shardPath(Path index, Path directory, String shardName) {
        Path shard = directory.resolve(shardName).normalize();
        if (shardName.isEmpty() || !shard.getParent().equals(directory.normalize())) {
            throw new SafetensorsException(index + ": shard name '" + shardName
                    + "' is not a file name in the index's directory");
        }
        return shard;
    }

    private static Map<String, String> readWeightMap(Path index) {
        JsonNode root;
        try {
            long size = Files.size(index);
            if (size > MAX_INDEX_BYTES) {
                throw new SafetensorsException(index + ": " + size + " bytes is too large for an index file");
            }
            root = SafetensorsHeader.JSON.readTree(Files.readAllBytes(index));
        } catch (JsonProcessingException e) {
            throw new SafetensorsException(index + ": malformed JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new SafetensorsException(index + ": cannot read: " + e.getMessage(), e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new SafetensorsException(index + ": no weight_map object");
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            if (!e.getValue().isTextual()) {
                throw new SafetensorsException(index + ": weight_map entry '" + e.getKey() + "' is not a file name");
            }
            weightMap.put(e.getKey(), e.getValue().textValue());
        }
        return weightMap;
    }

    /** The directory, index file or single file this was opened from. */
    public Path path() {
        return path;
    }

    /** The shard files, in the order the index first names them. */
    public List<SafetensorsFile> shards() {
        return shards;
    }

    /** The first shard's {@code __metadata__} (transformers writes {"format": "pt"} in every shard). */
    public Map<String, String> metadata() {
        return shards.isEmpty() ? Map.of() : shards.getFirst().metadata();
    }

    /** Tensor names, in index order (or header order for a single file). */
    public Set<String> names() {
        return tensors.keySet();
    }

    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    /** The tensor of that name, or null. */
    public SafetensorsTensor tensor(String name) {
        return tensors.get(name);
    }

    /** The tensor of that name; a missing one is a {@link SafetensorsException} naming the checkpoint. */
    public SafetensorsTensor require(String name) {
        SafetensorsTensor t = tensors.get(name);
        if (t == null) {
            throw new SafetensorsException(path + ": no tensor named '" + name + "'");
        }
        return t;
    }

    @Override
    public void close() {
        shards.forEach(SafetensorsFile::close);
    }
}
