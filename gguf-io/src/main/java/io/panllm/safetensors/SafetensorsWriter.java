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
        List<Pending> dataOrder = new ArrayList<>(tensors.values());
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
