package io.panllm.gguf;

import io.panllm.io.MappedFile;
import io.panllm.tensor.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF v2/v3 file, memory-mapped. Layout (llama.cpp's gguf.md):
 *
 * <pre>
 * u32 magic "GGUF" | u32 version | u64 tensor_count | u64 metadata_kv_count
 * metadata_kv_count x { string key | u32 value_type | value }
 * tensor_count x { string name | u32 n_dims | u64 ne[n_dims] | u32 ggml_type | u64 offset }
 * padding to general.alignment (default 32)
 * tensor data; each tensor at data_start + offset, offsets aligned to general.alignment
 * </pre>
 *
 * Strings are u64 length + UTF-8 bytes. Arrays are u32 element type + u64 count + elements.
 * Tensor data is handed out as zero-copy slices of the mapping; they stay valid until {@link #close()}.
 */
public final class GgufFile implements AutoCloseable {
    public static final int MAGIC = 0x46554747; // "GGUF" little-endian
    public static final int DEFAULT_ALIGNMENT = 32;
    /** ggml's GGML_MAX_DIMS. */
    public static final int MAX_DIMS = 4;

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapping;
    private final int version;
    private final GgufMetadata metadata;
    private final List<GgufTensorInfo> tensors;
    private final Map<String, GgufTensorInfo> tensorsByName;
    private final int alignment;
    private final long dataOffset;

    private GgufFile(Path path, Arena arena, MemorySegment mapping) {
        this.path = path;
        this.arena = arena;
        this.mapping = mapping;
        String source = path.toString();
        SegmentCursor in = new SegmentCursor(mapping, source);

        int magic = in.i32("magic");
        if (magic != MAGIC) {
            throw new GgufException(source + ": not a GGUF file (magic 0x" + Integer.toHexString(magic) + ", expected 'GGUF')");
        }
        version = in.i32("version");
        if (version != 2 && version != 3) {
            throw new GgufException(source + ": GGUF version " + Integer.toUnsignedString(version)
                    + " is not supported (panllm reads versions 2 and 3)");
        }
        long tensorCount = in.i64("tensor count");
        long kvCount = in.i64("metadata count");
        // Every tensor info takes at least 8+4+4+8 bytes, every key/value pair at least 8+4+1.
        if (tensorCount < 0 || tensorCount > in.remaining() / 24) {
            throw in.error("tensor count " + Long.toUnsignedString(tensorCount) + " is larger than the file could hold");
        }
        if (kvCount < 0 || kvCount > in.remaining() / 13) {
            throw in.error("metadata count " + Long.toUnsignedString(kvCount) + " is larger than the file could hold");
        }

        Map<String, GgufValue> kv = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            long keyAt = in.position();
            String key = in.string("metadata key");
            int typeId = in.i32("type of '" + key + "'");
            GgufValueType type = GgufValueType.fromId(Integer.toUnsignedLong(typeId));
            if (type == null) {
                throw in.error("metadata key '" + key + "' has unknown value type " + Integer.toUnsignedString(typeId));
            }
            if (kv.containsKey(key)) {
                throw new GgufException(source + " at offset " + keyAt + ": duplicate metadata key '" + key + "'");
            }
            kv.put(key, new GgufValue(type, GgufValues.read(in, type, key, 0)));
        }
        metadata = new GgufMetadata(kv, source);

        long align = metadata.has("general.alignment") ? metadata.getLong("general.alignment") : DEFAULT_ALIGNMENT;
        if (align <= 0 || align > (1 << 20) || Long.bitCount(align) != 1) {
            throw new GgufException(source + ": general.alignment " + align + " is not a power of two");
        }
        alignment = (int) align;

        List<GgufTensorInfo> infos = new ArrayList<>((int) tensorCount);
        Map<String, GgufTensorInfo> byName = new LinkedHashMap<>();
        for (long i = 0; i < tensorCount; i++) {
            long infoAt = in.position();
            GgufTensorInfo info = readTensorInfo(in, source);
            if (byName.putIfAbsent(info.name(), info) != null) {
                throw new GgufException(source + " at offset " + infoAt + ": duplicate tensor name '" + info.name() + "'");
            }
            infos.add(info);
        }
        long headerEnd = in.position();
        long start = alignUp(headerEnd, alignment);
        if (tensorCount > 0 && start > mapping.byteSize()) {
            throw new GgufException(source + ": file ends at " + mapping.byteSize() + " before its tensor data (expected at " + start + ")");
        }
        dataOffset = start;
        long dataSize = Math.max(0, mapping.byteSize() - dataOffset);
        for (GgufTensorInfo t : infos) {
            if (t.offset() % alignment != 0) {
                throw new GgufException(source + ": tensor '" + t.name() + "' data offset " + t.offset()
                        + " is not aligned to " + alignment);
            }
            if (t.offset() > dataSize || t.byteSize() > dataSize - t.offset()) {
                throw new GgufException(source + ": tensor '" + t.name() + "' (" + t.byteSize() + " bytes at data offset "
                        + t.offset() + ") runs past the end of the file (data section holds " + dataSize + " bytes); truncated?");
            }
        }
        tensors = Collections.unmodifiableList(infos);
        tensorsByName = Collections.unmodifiableMap(byName);
    }

    private static GgufTensorInfo readTensorInfo(SegmentCursor in, String source) {
        String name = in.string("tensor name");
        int nDims = in.i32("dimension count of '" + name + "'");
        if (nDims < 1 || nDims > MAX_DIMS) {
            throw in.error("tensor '" + name + "' has " + Integer.toUnsignedString(nDims) + " dimensions (1 to " + MAX_DIMS + " allowed)");
        }
        long[] shape = new long[nDims];
        long elements = 1;
        for (int d = 0; d < nDims; d++) {
            shape[d] = in.i64("dimension " + d + " of '" + name + "'");
            if (shape[d] < 0) {
                throw in.error("tensor '" + name + "' dimension " + d + " = " + Long.toUnsignedString(shape[d]) + " is too large");
            }
            try {
                elements = Math.multiplyExact(elements, shape[d]);
            } catch (ArithmeticException e) {
                throw in.error("tensor '" + name + "' element count overflows");
            }
        }
        int typeId = in.i32("type of '" + name + "'");
        GgmlType type = GgmlType.fromId(Integer.toUnsignedLong(typeId));
        if (type == null) {
            throw in.error("tensor '" + name + "' has " + GgmlType.unknownIdMessage(Integer.toUnsignedLong(typeId)));
        }
        if (shape[0] % type.blockSize != 0) {
            throw in.error("tensor '" + name + "' row length " + shape[0] + " is not a multiple of the " + type
                    + " block size " + type.blockSize);
        }
        long offset = in.i64("data offset of '" + name + "'");
        if (offset < 0) {
            throw in.error("tensor '" + name + "' data offset " + Long.toUnsignedString(offset) + " is too large");
        }
        long bytes;
        try {
            bytes = type.byteSize(elements);
        } catch (ArithmeticException e) {
            throw in.error("tensor '" + name + "' byte size overflows");
        }
        return new GgufTensorInfo(name, shape, type, offset, bytes);
    }

    static long alignUp(long offset, int alignment) {
        return (offset + alignment - 1) / alignment * alignment;
    }

    /** Maps and parses a GGUF file. The caller closes it; tensor slices die with it. */
    public static GgufFile open(Path path) {
        return MappedFile.open(path, (arena, mapping) -> new GgufFile(path, arena, mapping), GgufException::new);
    }

    /** Parses GGUF bytes held in memory (tests, fuzzing, data received over a pipe). */
    public static GgufFile fromBytes(byte[] bytes, String name) {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment copy = arena.allocate(Math.max(1, bytes.length), 64).asSlice(0, bytes.length);
            MemorySegment.copy(MemorySegment.ofArray(bytes), 0, copy, 0, bytes.length);
            return new GgufFile(Path.of(name), arena, copy);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public int alignment() {
        return alignment;
    }

    /** Offset of the tensor data section from the start of the file. */
    public long dataOffset() {
        return dataOffset;
    }

    public long fileSize() {
        return mapping.byteSize();
    }

    public GgufMetadata metadata() {
        return metadata;
    }

    public List<GgufTensorInfo> tensors() {
        return tensors;
    }

    /** The tensor with this name, or null. */
    public GgufTensorInfo tensor(String name) {
        return tensorsByName.get(name);
    }

    /** Zero-copy view of a tensor's bytes. */
    public MemorySegment tensorData(GgufTensorInfo t) {
        return mapping.asSlice(dataOffset + t.offset(), t.byteSize());
    }

    /** The whole mapped file. */
    public MemorySegment mapping() {
        return mapping;
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
