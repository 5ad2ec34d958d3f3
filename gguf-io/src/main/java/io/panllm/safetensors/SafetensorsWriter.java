package io.panllm.safetensors;

import com.fasterxml.jackson.core.JsonGenerator;
import io.panllm.io.AtomicFile;
import io.panllm.tensor.LittleEndian;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a safetensors file one tensor at a time: tensors are declared first (name, dtype, shape
 * and a {@link TensorSource}), then {@link #write} lays out the header and asks each source for its
 * bytes in turn, so at most one tensor is in memory at once.
 *
 * <p>Layout as the reference (Rust) writer makes it, so that the same tensors and metadata give
 * the same bytes as {@code safetensors.save_file}: {@code __metadata__} first in the header (in the
 * order given), the header padded with spaces so the data area starts at a multiple of 8, tensors
 * packed without gaps, ordered by dtype as the reference orders them (widest first, so every
 * tensor is aligned to its element size) and then by name, the header listing them in that same
 * order. The file appears at its target by an atomic rename of a temporary file in the same
 * directory; on any failure the temporary file is deleted and the target is left as it was.
 */
public final class SafetensorsWriter {

    /** Produces one tensor's bytes (little-endian), allocating in the given arena, closed after the write. */
    @FunctionalInterface
    public interface TensorSource {
        MemorySegment produce(Arena arena) throws IOException;
    }

    private record Pending(String name, SafetensorsDtype dtype, long[] shape, long byteSize, TensorSource source) {
    }

    /** The order of the reference implementation's Dtype enum (alignment ascending); its writer sorts by it, descending. */
    private static final List<SafetensorsDtype> REFERENCE_DTYPE_ORDER = List.of(SafetensorsDtype.BOOL, SafetensorsDtype.U8,
            SafetensorsDtype.I8, SafetensorsDtype.F8_E5M2, SafetensorsDtype.F8_E4M3, SafetensorsDtype.I16,
            SafetensorsDtype.U16, SafetensorsDtype.F16, SafetensorsDtype.BF16, SafetensorsDtype.I32, SafetensorsDtype.U32,
            SafetensorsDtype.F32, SafetensorsDtype.F64, SafetensorsDtype.I64, SafetensorsDtype.U64);

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final Map<String, Pending> tensors = new LinkedHashMap<>();

    /** Adds (or replaces) a {@code __metadata__} entry. */
    public SafetensorsWriter putMetadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    public SafetensorsWriter putMetadata(Map<String, String> entries) {
        metadata.putAll(entries);
        return this;
    }

    /**
     * Declares a tensor. {@code shape} is in PyTorch order (outermost first).
     *
     * @throws SafetensorsException for a duplicate or reserved name, a negative dimension or a size
     *     that overflows
     */
    public SafetensorsWriter add(String name, SafetensorsDtype dtype, long[] shape, TensorSource source) {
        if (name.equals(SafetensorsHeader.METADATA_KEY)) {
            throw new SafetensorsException("'" + name + "' is reserved for the metadata and cannot name a tensor");
        }
        if (tensors.containsKey(name)) {
            throw new SafetensorsException("duplicate tensor name '" + name + "'");
        }
        long byteSize;
        try {
            for (long d : shape) {
                if (d < 0) {
                    throw new ArithmeticException("negative dimension");
                }
            }
            byteSize = Math.multiplyExact(SafetensorsTensor.elementCount(shape), (long) dtype.byteSize);
        } catch (ArithmeticException e) {
            throw new SafetensorsException("tensor '" + name + "': invalid shape " + Arrays.toString(shape) + " ("
                    + e.getMessage() + ")");
        }
        tensors.put(name, new Pending(name, dtype, shape.clone(), byteSize, source));
        return this;
    }

    /** Declares a copy of a tensor of an open file (which must stay open until {@link #write}). */
    public SafetensorsWriter add(SafetensorsTensor tensor) {
        return add(tensor.name(), tensor.dtype(), tensor.shape(), arena -> tensor.data());
    }

    /** A source for float32 values held on the heap (small tensors, tests). */
    public static TensorSource floats(float[] values) {
        return arena -> {
            MemorySegment s = arena.allocate(4L * values.length);
            MemorySegment.copy(values, 0, s, LittleEndian.FLOAT, 0, values.length);
            return s;
        };
    }

    /** A source for raw bytes held on the heap. */
    public static TensorSource bytes(byte[] values) {
        return arena -> MemorySegment.ofArray(values);
    }

    /** Writes the file (through a temporary file in the target's directory, renamed atomically). */
    public void write(Path target) throws IOException {
        write(target, new ArrayList<>(tensors.values()));
    }

    /** Bytes of tensor data declared so far. */
    public long dataBytes() {
        return tensors.values().stream().mapToLong(Pending::byteSize).sum();
    }

    /**
     * Writes the tensors into {@code directory} as transformers' save_pretrained lays them out:
     * one {@code model.safetensors} when they fit in {@code maxShardBytes}, else shards
     * {@code model-0000i-of-0000n.safetensors} of at most that size (a tensor larger than that
     * gets a shard of its own) and {@code model.safetensors.index.json} mapping every tensor to
     * its shard, with the total data size. Tensors of one module ({@code X.weight},
     * {@code X.weight.absmax}, {@code X.SCB}, ...) stay in the same shard, as transformers keeps
     * a module's state together. Tensors are cut into shards in the order they were declared.
     *
     * @return the files written, the index last
     */
    public List<Path> writeSharded(Path directory, long maxShardBytes) throws IOException {
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("shard size must be positive");
        }
        List<List<Pending>> shards = new ArrayList<>();
        List<Pending> current = new ArrayList<>();
        long currentBytes = 0;
        String currentModule = null;
        for (Pending p : tensors.values()) {
            String module = moduleOf(p.name);
            if (!current.isEmpty() && !module.equals(currentModule) && currentBytes + p.byteSize > maxShardBytes) {
                shards.add(current);
                current = new ArrayList<>();
                currentBytes = 0;
            }
            current.add(p);
            currentBytes += p.byteSize;
            currentModule = module;
        }
        if (!current.isEmpty() || shards.isEmpty()) {
            shards.add(current);
        }
        List<Path> written = new ArrayList<>();
        if (shards.size() == 1) {
            Path single = directory.resolve(SafetensorsCheckpoint.SINGLE_FILE);
            write(single, shards.getFirst());
            written.add(single);
            return written;
        }
        java.util.TreeMap<String, String> weightMap = new java.util.TreeMap<>();
        for (int i = 0; i < shards.size(); i++) {
            String file = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
            write(directory.resolve(file), shards.get(i));
            written.add(directory.resolve(file));
            shards.get(i).forEach(p -> weightMap.put(p.name, file));
        }
        ByteArrayOutputStream index = new ByteArrayOutputStream();
        try (JsonGenerator json = SafetensorsHeader.JSON.createGenerator(index)) {
            json.useDefaultPrettyPrinter();
            json.writeStartObject();
            json.writeObjectFieldStart("metadata");
            json.writeNumberField("total_size", dataBytes());
            json.writeEndObject();
            json.writeObjectFieldStart("weight_map");
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                json.writeStringField(e.getKey(), e.getValue());
            }
            json.writeEndObject();
            json.writeEndObject();
        }
        index.write('\n');
        Path indexFile = directory.resolve(SafetensorsCheckpoint.INDEX_FILE);
        AtomicFile.write(indexFile, index.toByteArray());
        written.add(indexFile);
        return written;
    }

    /** "model.layers.0.mlp.up_proj" for up_proj.weight, .weight.absmax, .SCB, .weight_format, .weight.quant_state.*. */
    private static String moduleOf(String name) {
        int weight = name.indexOf(".weight");
        if (weight >= 0) {
            return name.substring(0, weight);
        }
        int dot = name.lastIndexOf('.');
        return dot < 0 ? name : name.substring(0, dot);
    }

    private void write(Path target, List<Pending> tensorsOfFile) throws IOException {
        List<Pending> dataOrder = new ArrayList<>(tensorsOfFile);
        dataOrder.sort(Comparator.comparingInt((Pending p) -> REFERENCE_DTYPE_ORDER.indexOf(p.dtype)).reversed()
                .thenComparing((Pending p) -> p.name.getBytes(StandardCharsets.UTF_8), Arrays::compareUnsigned));
        byte[] header = header(dataOrder);

        AtomicFile.write(target, out -> {
            AtomicFile.writeFully(out, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length));
            AtomicFile.writeFully(out, ByteBuffer.wrap(header));
            for (Pending p : dataOrder) {
                try (Arena arena = Arena.ofShared()) {
                    MemorySegment data = p.source.produce(arena);
                    if (data.byteSize() != p.byteSize) {
                        throw new SafetensorsException("tensor '" + p.name + "': source produced " + data.byteSize()
                                + " bytes, expected " + p.byteSize + " for " + p.dtype + Arrays.toString(p.shape));
                    }
                    AtomicFile.writeFully(out, data.asByteBuffer());
                }
            }
        });
    }

    /** The JSON header listing the tensors in data order, space-padded so that 8 + its length is a multiple of 8. */
    private byte[] header(List<Pending> dataOrder) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JsonGenerator json = SafetensorsHeader.JSON.createGenerator(bytes)) {
            json.writeStartObject();
            if (!metadata.isEmpty()) {
                json.writeObjectFieldStart(SafetensorsHeader.METADATA_KEY);
                for (Map.Entry<String, String> e : metadata.entrySet()) {
                    json.writeStringField(e.getKey(), e.getValue());
                }
                json.writeEndObject();
            }
            long offset = 0;
            for (Pending p : dataOrder) {
                json.writeObjectFieldStart(p.name);
                json.writeStringField("dtype", p.dtype.name());
                json.writeArrayFieldStart("shape");
                for (long d : p.shape) {
                    json.writeNumber(d);
                }
                json.writeEndArray();
                json.writeArrayFieldStart("data_offsets");
                json.writeNumber(offset);
                json.writeNumber(offset + p.byteSize);
                offset += p.byteSize;
                json.writeEndArray();
                json.writeEndObject();
            }
            json.writeEndObject();
        }
        if (bytes.size() > SafetensorsFile.MAX_HEADER_BYTES - 8) {
            throw new SafetensorsException("header of " + bytes.size() + " bytes is above the "
                    + SafetensorsFile.MAX_HEADER_BYTES + " bytes readers accept");
        }
        int padding = (8 - bytes.size() % 8) % 8;
        bytes.write(" ".repeat(padding).getBytes(StandardCharsets.US_ASCII));
        return bytes.toByteArray();
    }
}
