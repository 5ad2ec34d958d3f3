package io.panllm.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.panllm.tensor.LittleEndian;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a safetensors file, one tensor at a time: tensors are declared with their dtype and shape
 * (which fix the header), and each one's bytes are produced only when it is written. The header is
 * padded with spaces to a multiple of 8 bytes, as the reference implementation does, so the data
 * area is aligned. Output goes to a temporary file renamed over the target at the end.
 */
public final class SafetensorsWriter {

    /** Produces one tensor's bytes, allocating in the given arena (closed after the tensor is written). */
    @FunctionalInterface
    public interface TensorSource {
        MemorySegment produce(Arena arena) throws IOException;
    }

    private record Pending(String name, SafetensorsDtype dtype, long[] shape, long byteSize, TensorSource source) {
    }

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final List<Pending> tensors = new ArrayList<>();
    private final Set<String> names = new HashSet<>();

    public SafetensorsWriter putMetadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** Declares a tensor; {@code source} must produce exactly elementCount(shape) * dtype.size bytes. */
    public SafetensorsWriter add(String name, SafetensorsDtype dtype, long[] shape, TensorSource source) {
        if (name.equals(SafetensorsFile.METADATA_KEY) || !names.add(name)) {
            throw new IllegalArgumentException("tensor name '" + name + "' is reserved or already added");
        }
        long bytes = Math.multiplyExact(SafetensorsFile.elementCount(shape), dtype.size);
        tensors.add(new Pending(name, dtype, shape.clone(), bytes, source));
        return this;
    }

    /** Declares a tensor whose bytes are already in memory. */
    public SafetensorsWriter add(String name, SafetensorsDtype dtype, long[] shape, MemorySegment data) {
        return add(name, dtype, shape, arena -> data);
    }

    /** Declares a float32 tensor from an array (copied when written). */
    public SafetensorsWriter addFloats(String name, long[] shape, float[] values) {
        return add(name, SafetensorsDtype.F32, shape, arena -> {
            MemorySegment s = arena.allocate(4L * values.length);
            MemorySegment.copy(values, 0, s, LittleEndian.FLOAT, 0, values.length);
            return s;
        });
    }

    /** Declares a uint8 tensor from an array. */
    public SafetensorsWriter addBytes(String name, SafetensorsDtype dtype, long[] shape, byte[] values) {
        return add(name, dtype, shape, MemorySegment.ofArray(values));
    }

    /** The header JSON, without padding. */
    byte[] header() {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject(SafetensorsFile.METADATA_KEY);
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Pending t : tensors) {
            ObjectNode entry = root.putObject(t.name);
            entry.put("dtype", t.dtype.name());
            ArrayNode shape = entry.putArray("shape");
            Arrays.stream(t.shape).forEach(shape::add);
            entry.putArray("data_offsets").add(offset).add(offset + t.byteSize);
            offset += t.byteSize;
        }
        try {
            return json.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes everything to {@code target} through a temporary file in the same directory. */
    public void write(Path target) throws IOException {
        byte[] header = header();
        int padded = (header.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(header);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        head.flip();
        Path parent = target.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(parent, "." + target.getFileName() + ".", ".partial");
        boolean done = false;
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(out, head);
            for (Pending t : tensors) {
                try (Arena arena = Arena.ofShared()) {
                    MemorySegment data = t.source.produce(arena);
                    if (data.byteSize() != t.byteSize) {
                        throw new SafetensorsException(target + ": tensor '" + t.name + "' source produced " + data.byteSize()
                                + " bytes, expected " + t.byteSize + " for " + t.dtype + " " + Arrays.toString(t.shape));
                    }
                    writeSegment(out, data);
                }
            }
            out.force(false);
            done = true;
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
        try {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    /** In pieces: a ByteBuffer cannot view more than 2 GiB. */
    private static void writeSegment(FileChannel out, MemorySegment data) throws IOException {
        long chunk = 1L << 30;
        for (long at = 0; at < data.byteSize(); at += chunk) {
            writeFully(out, data.asSlice(at, Math.min(chunk, data.byteSize() - at)).asByteBuffer());
        }
    }

    private static void writeFully(FileChannel out, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            out.write(buffer);
        }
    }
}
