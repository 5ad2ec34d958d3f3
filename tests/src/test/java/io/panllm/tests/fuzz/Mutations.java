package io.panllm.tests.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.panllm.gguf.GgufArray;
import io.panllm.gguf.GgufFile;
import io.panllm.gguf.GgufTensorInfo;
import io.panllm.gguf.GgufValue;
import io.panllm.gguf.GgufValueType;
import io.panllm.gguf.GgufWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Mutations of model inputs, each named so that a failure says what was done: raw bytes (bit
 * flips, random bytes, huge 64-bit values, truncation, inserted and removed bytes), GGUF metadata
 * semantics (a key's value replaced by an extreme number, NaN, a value of another type, or removed),
 * GGUF tensor tables (a dimension, the dimension count, the type id or the offset patched in
 * place), tensor data (NaN and infinity patterns), safetensors headers and config.json keys, and
 * the llama2.c header.
 */
final class Mutations {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Values that break size arithmetic: zero, one, negative, the int and 2^30 boundaries, huge. */
    private static final long[] EXTREMES = {0, 1, 2, 3, -1, 7, 255, 256, 1L << 30, (1L << 31) - 1, 1L << 31, 1L << 32,
            (1L << 32) - 1, 1L << 40, Long.MAX_VALUE, Long.MIN_VALUE, 65536, 100_000};

    private final SplittableRandom random;
    /** What was done, for the failure report. */
    final List<String> applied = new ArrayList<>();

    Mutations(SplittableRandom random) {
        this.random = random;
    }

    long extreme() {
        return random.nextInt(4) == 0 ? random.nextLong(-4, 1 << 16) : EXTREMES[random.nextInt(EXTREMES.length)];
    }

    /** 1 to 4 byte-level mutations anywhere, or within the first {@code span} bytes. */
    byte[] bytes(byte[] in, int span) {
        byte[] b = in.clone();
        int n = 1 + random.nextInt(4);
        for (int m = 0; m < n && b.length > 0; m++) {
            int at = random.nextInt(Math.min(span, b.length));
            switch (random.nextInt(7)) {
                case 0 -> {
                    b[at] ^= (byte) (1 << random.nextInt(8));
                    applied.add("flip bit of byte " + at);
                }
                case 1 -> {
                    b[at] = (byte) random.nextInt(256);
                    applied.add("random byte at " + at);
                }
                case 2, 3 -> {
                    long v = extreme();
                    int width = random.nextBoolean() ? 8 : 4;
                    for (int k = 0; k < width && at + k < b.length; k++) {
                        b[at + k] = (byte) (v >>> (8 * k));
                    }
                    applied.add(width * 8 + "-bit " + v + " at " + at);
                }
                case 4 -> {
                    b = Arrays.copyOf(b, at);
                    applied.add("truncate to " + at);
                }
                case 5 -> {
                    int len = 1 + random.nextInt(16);
                    byte[] c = new byte[b.length + len];
                    System.arraycopy(b, 0, c, 0, at);
                    System.arraycopy(b, at, c, at + len, b.length - at);
                    b = c;
                    applied.add("insert " + len + " bytes at " + at);
                }
                default -> {
                    int len = Math.min(1 + random.nextInt(16), b.length - at);
                    byte[] c = new byte[b.length - len];
                    System.arraycopy(b, 0, c, 0, at);
                    System.arraycopy(b, at + len, c, at, b.length - at - len);
                    b = c;
                    applied.add("delete " + len + " bytes at " + at);
                }
            }
        }
        return b;
    }

    /** A value of a random type, biased to the troublesome ones. */
    GgufValue value(GgufValue old) {
        int pick = random.nextInt(10);
        return switch (pick) {
            case 0 -> GgufValue.ofString(random.nextBoolean() ? "x" : String.valueOf(extreme()));
            case 1 -> GgufValue.ofFloat32(new float[] {Float.NaN, Float.POSITIVE_INFINITY, -1f, 0f, 1e30f, 1e-30f}[random.nextInt(6)]);
            case 2 -> GgufValue.ofBool(random.nextBoolean());
            case 3 -> GgufValue.ofArray(GgufArray.ofInt32s(new int[] {(int) extreme(), 2}));
            case 4 -> new GgufValue(GgufValueType.INT64, extreme());
            case 5 -> new GgufValue(GgufValueType.INT32, (int) extreme());
            case 6 -> new GgufValue(GgufValueType.UINT64, extreme());
            case 7 -> new GgufValue(GgufValueType.INT8, (byte) extreme());
            case 8 -> old.type() == GgufValueType.ARRAY ? arrayMutant((GgufArray) old.value()) : new GgufValue(GgufValueType.UINT32, (int) extreme());
            default -> new GgufValue(GgufValueType.UINT32, (int) extreme());
        };
    }

    /** An array with elements dropped, added, or of the wrong type. */
    private GgufValue arrayMutant(GgufArray a) {
        Object values = a.values();
        return switch (random.nextInt(4)) {
            case 0 -> GgufValue.ofArray(GgufArray.ofStrings(List.of("<0xy3>", "<0x", "", "\u2581", "<s>")));
            case 1 -> GgufValue.ofArray(GgufArray.ofFloats(new float[] {Float.NaN, 1f}));
            case 2 -> GgufValue.ofArray(GgufArray.ofInt32s(new int[0]));
            default -> {
                if (values instanceof List<?> list && !list.isEmpty()) {
                    List<Object> copy = new ArrayList<>(list);
                    int at = random.nextInt(copy.size());
                    if (copy.get(at) instanceof String) {
                        copy.set(at, new String[] {"<0xZZ>", "<0x1>", "", "<0x100>", "\u2581\u2581"}[random.nextInt(5)]);
                    } else {
                        copy.remove(at);
                    }
                    yield GgufValue.ofArray(new GgufArray(a.elementType(), copy));
                }
                yield GgufValue.ofArray(GgufArray.ofInt32s(new int[] {-1, 1 << 30}));
            }
        };
    }

    /** The GGUF re-written with one to three metadata keys changed, removed or added. */
    byte[] ggufMetadata(byte[] seed, Path scratch) throws IOException {
        try (GgufFile f = GgufFile.fromBytes(seed, "seed")) {
            GgufWriter w = new GgufWriter();
            List<String> keys = new ArrayList<>(f.metadata().keys());
            var values = new java.util.LinkedHashMap<>(f.metadata().asMap());
            int n = 1 + random.nextInt(3);
            String arch = f.metadata().getString("general.architecture", "llama");
            for (int m = 0; m < n; m++) {
                String key = random.nextInt(5) == 0 ? arch + "." + new String[] {"block_count", "embedding_length", "vocab_size",
                        "context_length", "attention.head_count", "attention.head_count_kv", "attention.key_length",
                        "rope.dimension_count", "feed_forward_length", "rope.scaling.type"}[random.nextInt(10)]
                        : keys.get(random.nextInt(keys.size()));
                if (random.nextInt(5) == 0) {
                    values.remove(key);
                    applied.add("remove key " + key);
                } else {
                    GgufValue v = value(values.getOrDefault(key, GgufValue.ofUInt32(1)));
                    values.put(key, v);
                    applied.add("key " + key + " = " + v.type() + " " + abbreviate(v));
                }
            }
            values.remove("general.alignment");
            values.forEach(w::put);
            for (GgufTensorInfo t : f.tensors()) {
                w.addTensor(f, t);
            }
            Path out = scratch.resolve("rewritten.gguf");
            w.write(out, null);
            byte[] b = Files.readAllBytes(out);
            Files.delete(out);
            return b;
        }
    }

    private static String abbreviate(GgufValue v) {
        String s = v.toString();
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }

    /**
     * A tensor table entry patched in place: one of a tensor's dimensions, its dimension count, its
     * type id or its data offset.
     */
    byte[] ggufTensorTable(byte[] seed) {
        List<GgufTensorInfo> tensors;
        try (GgufFile f = GgufFile.fromBytes(seed, "seed")) {
            tensors = f.tensors();
        }
        if (tensors.isEmpty()) {
            return bytes(seed, 4096);
        }
        GgufTensorInfo t = tensors.get(random.nextInt(tensors.size()));
        byte[] name = t.name().getBytes(StandardCharsets.UTF_8);
        int at = indexOfEntry(seed, name);
        if (at < 0) {
            return bytes(seed, seed.length);
        }
        byte[] b = seed.clone();
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int dimsAt = at + 8 + name.length;
        int nDims = buf.getInt(dimsAt);
        int typeAt = dimsAt + 4 + 8 * nDims;
        switch (random.nextInt(6)) {
            case 0, 1 -> {
                int d = random.nextInt(nDims);
                long v = random.nextBoolean() ? extreme() : t.dim(d) * new long[] {2, 0, -1, 32, 1}[random.nextInt(5)];
                buf.putLong(dimsAt + 4 + 8 * d, v);
                applied.add("tensor " + t.name() + " dim " + d + " = " + v);
            }
            case 2 -> {
                int v = (int) extreme();
                buf.putInt(dimsAt, v);
                applied.add("tensor " + t.name() + " n_dims = " + v);
            }
            case 3, 4 -> {
                int v = random.nextInt(3) == 0 ? (int) extreme() : random.nextInt(42);
                buf.putInt(typeAt, v);
                applied.add("tensor " + t.name() + " type id = " + v);
            }
            default -> {
                long v = random.nextBoolean() ? extreme() : t.offset() + 32L * random.nextInt(-4, 5);
                buf.putLong(typeAt + 4, v);
                applied.add("tensor " + t.name() + " offset = " + v);
            }
        }
        return b;
    }

    /** Where the tensor table entry [u64 length][name] starts, or -1. */
    private static int indexOfEntry(byte[] b, byte[] name) {
        outer:
        for (int i = 8; i + name.length <= b.length; i++) {
            for (int k = 0; k < name.length; k++) {
                if (b[i + k] != name[k]) {
                    continue outer;
                }
            }
            long len = ByteBuffer.wrap(b, i - 8, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (len == name.length && i + name.length + 4 <= b.length) {
                return i - 8;
            }
        }
        return -1;
    }

    /** Tensor data overwritten with NaN, infinity or large values (F32 and F16 patterns). */
    byte[] tensorData(byte[] seed, long dataStart) {
        byte[] b = seed.clone();
        if (dataStart >= b.length) {
            return b;
        }
        int at = (int) (dataStart + random.nextLong(b.length - dataStart));
        byte[][] patterns = {{0, 0, (byte) 0xC0, 0x7F}, {0, 0, (byte) 0x80, 0x7F}, {0, (byte) 0x7E}, {0, (byte) 0x7C},
                {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF}, {(byte) 0xFF, 0x7F}};
        byte[] p = patterns[random.nextInt(patterns.length)];
        int repeats = 1 + random.nextInt(64);
        for (int r = 0; r < repeats; r++) {
            for (int k = 0; k < p.length && at + r * p.length + k < b.length; k++) {
                b[at + r * p.length + k] = p[k];
            }
        }
        applied.add("data pattern " + Arrays.toString(p) + " x" + repeats + " at " + at);
        return b;
    }

    /** A safetensors header entry's dtype, shape or offsets changed, or the entry removed. */
    byte[] safetensorsHeader(byte[] seed) throws IOException {
        long headerLength = ByteBuffer.wrap(seed, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ObjectNode header = (ObjectNode) JSON.readTree(new String(seed, 8, (int) headerLength, StandardCharsets.UTF_8));
        List<String> names = new ArrayList<>();
        header.fieldNames().forEachRemaining(names::add);
        names.remove("__metadata__");
        String name = names.get(random.nextInt(names.size()));
        ObjectNode entry = (ObjectNode) header.get(name);
        switch (random.nextInt(7)) {
            case 0 -> {
                String dtype = new String[] {"F32", "F16", "BF16", "I8", "U8", "I64", "F64", "BOOL", "F8_E4M3", "X"}[random.nextInt(10)];
                entry.put("dtype", dtype);
                applied.add(name + " dtype = " + dtype);
            }
            case 1, 2 -> {
                ArrayNode shape = (ArrayNode) entry.get("shape");
                int d = random.nextInt(Math.max(1, shape.size()));
                long v = extreme();
                if (shape.isEmpty()) {
                    shape.add(v);
                } else {
                    shape.set(d, JSON.getNodeFactory().numberNode(v));
                }
                applied.add(name + " shape[" + d + "] = " + v);
            }
            case 3 -> {
                ArrayNode shape = (ArrayNode) entry.get("shape");
                if (random.nextBoolean()) {
                    shape.add(1);
                } else if (!shape.isEmpty()) {
                    shape.remove(shape.size() - 1);
                }
                applied.add(name + " rank changed to " + shape.size());
            }
            case 4 -> {
                ArrayNode offsets = (ArrayNode) entry.get("data_offsets");
                int i = random.nextInt(2);
                long v = random.nextBoolean() ? extreme() : offsets.get(i).asLong() + random.nextInt(-8, 9);
                offsets.set(i, JSON.getNodeFactory().numberNode(v));
                applied.add(name + " data_offsets[" + i + "] = " + v);
            }
            case 5 -> {
                header.remove(name);
                applied.add("remove tensor " + name);
            }
            default -> {
                String renamed = name.replace("layers.1", "layers.7").replace("weight", "bias");
                header.remove(name);
                header.set(renamed, entry);
                applied.add("rename " + name + " to " + renamed);
            }
        }
        byte[] json = JSON.writeValueAsBytes(header);
        long dataStart = 8 + headerLength;
        byte[] out = new byte[(int) (8 + json.length + seed.length - dataStart)];
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).put(json).put(seed, (int) dataStart, (int) (seed.length - dataStart));
        return out;
    }

    /** config.json with one key set to an extreme number, a string, null, or removed. */
    String config(String seed) throws IOException {
        ObjectNode config = (ObjectNode) JSON.readTree(seed);
        List<String> keys = new ArrayList<>();
        for (Iterator<String> it = config.fieldNames(); it.hasNext(); ) {
            keys.add(it.next());
        }
        keys.add("head_dim");
        keys.add("rope_scaling");
        String key = keys.get(random.nextInt(keys.size()));
        JsonNode v = switch (random.nextInt(6)) {
            case 0 -> JSON.getNodeFactory().numberNode(extreme());
            case 1 -> JSON.getNodeFactory().textNode("x");
            case 2 -> JSON.getNodeFactory().nullNode();
            case 3 -> JSON.getNodeFactory().numberNode(new double[] {Double.NaN, -1.0, 0.0, 1e300}[random.nextInt(4)]);
            case 4 -> JSON.readTree("{\"rope_type\": \"" + new String[] {"llama3", "yarn", "linear", "dynamic"}[random.nextInt(4)]
                    + "\", \"factor\": " + extreme() + "}");
            default -> null;
        };
        if (v == null) {
            config.remove(key);
            applied.add("config.json remove " + key);
        } else {
            config.set(key, v);
            applied.add("config.json " + key + " = " + v);
        }
        return JSON.writeValueAsString(config);
    }

    /** The llama2.c header's seven int32 fields (dim, hidden, layers, heads, kv heads, vocab, seq len). */
    byte[] llama2cHeader(byte[] seed) {
        byte[] b = seed.clone();
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        boolean v2 = buf.getInt(0) == 0x616b3432;
        int headerStart = v2 ? 8 : 0;
        int field = random.nextInt(v2 ? 9 : 7);
        int at = headerStart + 4 * field;
        int value = random.nextBoolean() ? (int) extreme() : buf.getInt(at) * new int[] {2, 0, -1, 3}[random.nextInt(4)];
        buf.putInt(at, value);
        applied.add("llama2.c header int " + field + " = " + value);
        return b;
    }
}
