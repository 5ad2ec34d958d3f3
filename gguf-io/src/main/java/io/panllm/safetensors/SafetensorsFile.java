package io.panllm.safetensors;

import io.panllm.io.MappedFile;
import io.panllm.tensor.LittleEndian;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One safetensors file, memory-mapped read-only for as long as it is open.
 *
 * <pre>
 * u64 N (little-endian)   header length
 * N bytes                 UTF-8 JSON header (see {@link SafetensorsHeader}), space-padded by HF's writer
 * ...                     data area: each tensor's little-endian bytes at its data_offsets
 * </pre>
 *
 * Every tensor is a zero-copy slice of the mapping; slices die with {@link #close()}. Anything
 * wrong with the file (too short, a header length beyond the file or above
 * {@value #MAX_HEADER_BYTES} bytes, malformed JSON, an unknown dtype, offsets that overflow, overlap
 * or leave the data area) throws {@link SafetensorsException} naming the file and the offset.
 */
public final class SafetensorsFile implements AutoCloseable {

    /** Header lengths above this are refused, as the reference implementation does. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private final Path path;
    private final Arena arena;
    private final long dataOffset;
    private final Map<String, String> metadata;
    private final Map<String, SafetensorsTensor> tensors;

    private SafetensorsFile(Path path, Arena arena, MemorySegment file) {
        this.path = path;
        this.arena = arena;
        long fileSize = file.byteSize();
        if (fileSize < 8) {
            throw new SafetensorsException(path + ": " + fileSize + " bytes is too short for a safetensors file"
                    + " (an 8-byte header length comes first)");
        }
        long headerLength = file.get(LittleEndian.LONG, 0); // a u64: negative here means >= 2^63
        if (headerLength < 0 || headerLength > MAX_HEADER_BYTES || headerLength > fileSize - 8) {
            throw new SafetensorsException(path + ": header length " + Long.toUnsignedString(headerLength)
                    + " at offset 0 is impossible for a file of " + fileSize + " bytes (limit " + MAX_HEADER_BYTES
                    + "); not a safetensors file, or truncated");
        }
        this.dataOffset = 8 + headerLength;
        byte[] json = file.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE);
        SafetensorsHeader header = SafetensorsHeader.parse(json, fileSize - dataOffset, path.toString(), 8, dataOffset);
        this.metadata = header.metadata();
        Map<String, SafetensorsTensor> byName = new LinkedHashMap<>();
        MemorySegment data = file.asSlice(dataOffset);
        for (SafetensorsHeader.Entry e : header.entries()) {
            byName.put(e.name(), new SafetensorsTensor(e.name(), e.dtype(), e.shape(),
                    data.asSlice(e.begin(), e.end() - e.begin())));
        }
        this.tensors = Collections.unmodifiableMap(byName);
    }

    /** Maps and checks a file; the caller closes it. */
    public static SafetensorsFile open(Path path) {
        return MappedFile.open(path, (arena, file) -> new SafetensorsFile(path, arena, file), SafetensorsException::new);
    }

    /** Parses bytes already in memory (tests: fuzzing without a file per case); takes over the arena. */
    static SafetensorsFile parse(Path name, Arena arena, MemorySegment bytes) {
        try {
            return new SafetensorsFile(name, arena, bytes);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    /** File offset of the data area (8 + header length). */
    public long dataOffset() {
        return dataOffset;
    }

    /** The {@code __metadata__} map, in header order; empty when the header has none. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Tensor names in header order. */
    public Set<String> names() {
        return tensors.keySet();
    }

    /** All tensors in header order. */
    public List<SafetensorsTensor> tensors() {
        return List.copyOf(tensors.values());
    }

    /** The tensor of that name, or null. */
    public SafetensorsTensor tensor(String name) {
        return tensors.get(name);
    }

    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    /** Unmaps the file; tensor slices handed out become unusable. Idempotent. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
