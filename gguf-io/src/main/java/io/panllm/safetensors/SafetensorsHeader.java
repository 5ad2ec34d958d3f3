package io.panllm.safetensors;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON header of a safetensors file, parsed and checked against the size of the data area:
 *
 * <pre>
 * {"__metadata__": {"format": "pt", ...},            optional, string values only
 *  "name": {"dtype": "F16", "shape": [r, c], "data_offsets": [begin, end]}, ...}
 * </pre>
 *
 * Offsets are relative to the first byte after the header; end - begin must be exactly
 * dtype size * product(shape), every range must lie inside the data area and no two may overlap.
 * (safetensors' own writer packs tensors without gaps; gaps are tolerated here, overlaps are not.)
 */
record SafetensorsHeader(Map<String, String> metadata, List<Entry> entries) {

    static final String METADATA_KEY = "__metadata__";

    /** One tensor entry; begin and end are relative to the data area. */
    record Entry(String name, SafetensorsDtype dtype, long[] shape, long begin, long end) {
    }

    /** Headers nest three levels deep; anything deeper is hostile. */
    private static final int MAX_NESTING = 16;

    static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING).build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /**
     * @param where names the file, for messages
     * @param headerStart file offset of the JSON text (8), for messages
     * @param dataStart file offset of the data area, for messages
     */
    static SafetensorsHeader parse(byte[] json, long dataSize, String where, long headerStart, long dataStart) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            long at = e.getLocation() == null ? -1 : e.getLocation().getByteOffset();
            throw new SafetensorsException(where + ": malformed JSON header"
                    + (at >= 0 ? " at offset " + (headerStart + at) : "") + ": " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new SafetensorsException(where + ": cannot parse the JSON header: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new SafetensorsException(where + ": the header at offset " + headerStart + " is not a JSON object");
        }
        Map<String, String> metadata = Map.of();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            String name = field.getKey();
            if (name.equals(METADATA_KEY)) {
                metadata = parseMetadata(field.getValue(), where);
            } else {
                entries.add(parseEntry(name, field.getValue(), dataSize, where, dataStart));
            }
        }
        checkNoOverlap(entries, where, dataStart);
        return new SafetensorsHeader(metadata, List.copyOf(entries));
    }

    private static Map<String, String> parseMetadata(JsonNode node, String where) {
        if (!node.isObject()) {
            throw new SafetensorsException(where + ": " + METADATA_KEY + " must be an object of strings, got "
                    + node.getNodeType());
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) {
                throw new SafetensorsException(where + ": " + METADATA_KEY + " value of '" + e.getKey()
                        + "' must be a string, got " + e.getValue().getNodeType());
            }
            metadata.put(e.getKey(), e.getValue().textValue());
        }
        return Collections.unmodifiableMap(metadata);
    }

    private static Entry parseEntry(String name, JsonNode node, long dataSize, String where, long dataStart) {
        String what = where + ": tensor '" + name + "'";
        if (!node.isObject()) {
            throw new SafetensorsException(what + ": expected an object with dtype, shape and data_offsets");
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new SafetensorsException(what + ": missing or non-string dtype");
        }
        SafetensorsDtype dtype = SafetensorsDtype.fromName(dtypeNode.textValue());
        if (dtype == null) {
            throw new SafetensorsException(what + ": unknown dtype '" + dtypeNode.textValue() + "'");
        }
        long[] shape = nonNegativeLongs(node.get("shape"), -1, what + ": shape");
        long[] offsets = nonNegativeLongs(node.get("data_offsets"), 2, what + ": data_offsets");
        long begin = offsets[0];
        long end = offsets[1];
        long expected;
        try {
            expected = Math.multiplyExact(SafetensorsTensor.elementCount(shape), (long) dtype.byteSize);
        } catch (ArithmeticException e) {
            throw new SafetensorsException(what + ": shape " + java.util.Arrays.toString(shape) + " of " + dtype
                    + " overflows a 64-bit byte count");
        }
        if (begin > end || end > dataSize) {
            throw new SafetensorsException(what + ": data_offsets [" + begin + ", " + end
                    + "] lie outside the data area of " + dataSize + " bytes starting at offset " + dataStart);
        }
        if (end - begin != expected) {
            throw new SafetensorsException(what + ": data_offsets [" + begin + ", " + end + "] hold " + (end - begin)
                    + " bytes, but " + dtype + java.util.Arrays.toString(shape) + " needs " + expected);
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    /** A JSON array of non-negative integers that fit a long; {@code length} -1 means any length. */
    private static long[] nonNegativeLongs(JsonNode node, int length, String what) {
        if (node == null || !node.isArray()) {
            throw new SafetensorsException(what + ": missing or not an array");
        }
        if (length >= 0 && node.size() != length) {
            throw new SafetensorsException(what + ": expected " + length + " values, got " + node.size());
        }
        if (node.size() > 64) {
            throw new SafetensorsException(what + ": " + node.size() + " dimensions");
        }
        long[] values = new long[node.size()];
        for (int i = 0; i < values.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw new SafetensorsException(what + ": element " + i + " (" + v + ") is not an integer in [0, 2^63)");
            }
            values[i] = v.longValue();
        }
        return values;
    }

    private static void checkNoOverlap(List<Entry> entries, String where, long dataStart) {
        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        for (int i = 1; i < byOffset.size(); i++) {
            Entry previous = byOffset.get(i - 1);
            Entry current = byOffset.get(i);
            if (current.begin < previous.end) {
                throw new SafetensorsException(where + ": tensors '" + previous.name + "' [" + previous.begin + ", "
                        + previous.end + ") and '" + current.name + "' [" + current.begin + ", " + current.end
                        + ") overlap (data area starts at offset " + dataStart + ")");
            }
        }
    }
}
