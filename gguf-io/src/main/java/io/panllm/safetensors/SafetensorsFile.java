package io.panllm.safetensors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.panllm.io.MappedFile;
import io.panllm.tensor.LittleEndian;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file, memory-mapped. Layout (huggingface/safetensors):
 *
 * <pre>
 * u64 LE header length N | N bytes of UTF-8 JSON | data area
 * JSON: { "__metadata__": {string: string}?, name: {"dtype": "BF16", "shape": [d0, d1...],
 *         "data_offsets": [begin, end]} ... }
 * </pre>
 *
 * Offsets are relative to the data area, end exclusive; end - begin must be the element count times
 * the dtype size, and no two tensors may overlap. Tensors are handed out as zero-copy slices of the
 * mapping, valid until {@link #close()}. The arena is shared: slices may be read from several threads.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Headers larger than this are refused (the Rust reference uses the same bound). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    static final String METADATA_KEY = "__metadata__";
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);

    private final Path path;
    private final Arena arena;
    private final Map<String, String> metadata;
    private final Map<String, SafetensorsTensor> tensors;
    private final long dataOffset;
    private final long fileSize;

    private SafetensorsFile(Path path, Arena arena, MemorySegment mapping) {
        this.path = path;
        this.arena = arena;
        this.fileSize = mapping.byteSize();
        String source = path.toString();
        if (fileSize < 8) {
            throw new SafetensorsException(source + ": " + fileSize + " bytes, too short for a safetensors header length");
        }
        long headerLength = mapping.get(LittleEndian.LONG, 0);
        if (headerLength < 2 || headerLength > MAX_HEADER_BYTES || headerLength > fileSize - 8) {
            throw new SafetensorsException(source + " at offset 0: header length " + Long.toUnsignedString(headerLength)
                    + " is impossible (file holds " + (fileSize - 8) + " bytes after it, limit " + MAX_HEADER_BYTES + ")");
        }
        dataOffset = 8 + headerLength;
        JsonNode header = parseHeader(mapping.asSlice(8, headerLength), source);
        MemorySegment dataArea = mapping.asSlice(dataOffset);

        Map<String, String> meta = new LinkedHashMap<>();
        Map<String, SafetensorsTensor> byName = new LinkedHashMap<>();
        List<long[]> ranges = new ArrayList<>();
        List<String> rangeNames = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String name = field.getKey();
            if (name.equals(METADATA_KEY)) {
                readMetadata(field.getValue(), meta, source);
                continue;
            }
            Entry entry = readEntry(name, field.getValue(), dataArea.byteSize(), source);
            ranges.add(new long[] {entry.begin, entry.end, ranges.size()});
            rangeNames.add(name);
            byName.put(name, new SafetensorsTensor(name, entry.dtype, entry.shape,
                    dataArea.asSlice(entry.begin, entry.end - entry.begin)));
        }
        ranges.sort(Comparator.comparingLong(r -> r[0]));
        for (int i = 1; i < ranges.size(); i++) {
            long[] previous = ranges.get(i - 1);
            long[] current = ranges.get(i);
            if (current[0] < previous[1]) {
                throw new SafetensorsException(source + ": tensors '" + rangeNames.get((int) previous[2]) + "' and '"
                        + rangeNames.get((int) current[2]) + "' overlap in the data area (at data offset " + current[0] + ")");
            }
        }
        metadata = Collections.unmodifiableMap(meta);
        tensors = Collections.unmodifiableMap(byName);
    }

    /** Maps and validates a file. */
    public static SafetensorsFile open(Path path) {
        return MappedFile.open(path, (arena, mapping) -> new SafetensorsFile(path, arena, mapping), SafetensorsException::new);
    }

    private record Entry(SafetensorsDtype dtype, long[] shape, long begin, long end) {
    }

    private static JsonNode parseHeader(MemorySegment bytes, String source) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes.asByteBuffer()).toString();
        } catch (CharacterCodingException e) {
            throw new SafetensorsException(source + " at offset 8: header is not valid UTF-8");
        }
        if (!text.startsWith("{")) {
            throw new SafetensorsException(source + " at offset 8: header does not start with '{'");
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JacksonException e) {
            throw new SafetensorsException(source + " at offset 8: header is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new SafetensorsException(source + " at offset 8: header is not a JSON object");
        }
        return root;
    }

    private static void readMetadata(JsonNode node, Map<String, String> out, String source) {
        if (!node.isObject()) {
            throw new SafetensorsException(source + ": header " + METADATA_KEY + " is not an object of strings");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new SafetensorsException(source + ": header " + METADATA_KEY + " value of '" + e.getKey()
                        + "' is not a string");
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
    }

    private static Entry readEntry(String name, JsonNode node, long dataSize, String source) {
        String where = source + ": tensor '" + name + "'";
        if (!node.isObject()) {
            throw new SafetensorsException(where + " header entry is not an object");
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new SafetensorsException(where + " has no dtype string");
        }
        SafetensorsDtype dtype = SafetensorsDtype.fromName(dtypeNode.textValue());
        if (dtype == null) {
            throw new SafetensorsException(where + " has unknown dtype '" + dtypeNode.textValue() + "'");
        }
        long[] shape = longArray(node.get("shape"), -1, where, "shape");
        long[] offsets = longArray(node.get("data_offsets"), 2, where, "data_offsets");
        long elements;
        long bytes;
        try {
            elements = elementCount(shape);
            bytes = Math.multiplyExact(elements, dtype.size);
        } catch (ArithmeticException e) {
            throw new SafetensorsException(where + " shape " + java.util.Arrays.toString(shape) + " overflows");
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (end < begin || end > dataSize) {
            throw new SafetensorsException(where + " data_offsets [" + begin + ", " + end + "] lie outside the data area ("
                    + dataSize + " bytes at file offset " + "after the header)");
        }
        if (end - begin != bytes) {
            throw new SafetensorsException(where + " holds " + (end - begin) + " bytes, but " + dtype + " "
                    + java.util.Arrays.toString(shape) + " needs " + bytes);
        }
        return new Entry(dtype, shape, begin, end);
    }

    private static long[] longArray(JsonNode node, int expectedLength, String where, String what) {
        if (node == null || !node.isArray() || (expectedLength >= 0 && node.size() != expectedLength)) {
            throw new SafetensorsException(where + " " + what + " is not an array"
                    + (expectedLength >= 0 ? " of " + expectedLength + " integers" : " of integers"));
        }
        if (node.size() > 64) {
            throw new SafetensorsException(where + " " + what + " has " + node.size() + " entries");
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw new SafetensorsException(where + " " + what + "[" + i + "] = " + v + " is not a non-negative integer");
            }
            out[i] = v.longValue();
        }
        return out;
    }

    /** Product of the dimensions (1 for a scalar). @throws ArithmeticException on overflow */
    static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public Path path() {
        return path;
    }

    public long fileSize() {
        return fileSize;
    }

    /** File offset of the data area (8 + header length). */
    public long dataOffset() {
        return dataOffset;
    }

    /** The {@code __metadata__} string map (empty when absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Tensors in header order. */
    public Map<String, SafetensorsTensor> tensors() {
        return tensors;
    }

    /** @throws SafetensorsException when the file has no such tensor */
    public SafetensorsTensor tensor(String name) {
        SafetensorsTensor t = tensors.get(name);
        if (t == null) {
            throw new SafetensorsException(path + ": no tensor '" + name + "'");
        }
        return t;
    }

    @Override
    public void close() {
        arena.close();
    }
}
