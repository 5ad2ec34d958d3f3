package io.panllm.runtime.calibration;

import io.panllm.gguf.GgufArray;
import io.panllm.gguf.GgufException;
import io.panllm.gguf.GgufFile;
import io.panllm.gguf.GgufTensorInfo;
import io.panllm.gguf.GgufValue;
import io.panllm.gguf.GgufWriter;
import io.panllm.io.AtomicFile;
import io.panllm.tensor.GgmlType;
import io.panllm.tensor.LittleEndian;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads and writes llama.cpp's two imatrix formats (tools/imatrix/imatrix.cpp, tools/quantize):
 * <ul>
 * <li>GGUF (what llama-imatrix writes by default): {@code general.type = "imatrix"},
 *     {@code imatrix.datasets} (string array), {@code imatrix.chunk_count} and
 *     {@code imatrix.chunk_size} (uint32), and per weight tensor, in name order, an F32 tensor
 *     {@code NAME.in_sum2} of shape [columns, matrices] (the sums of squares) and {@code NAME.counts}
 *     of shape [1, matrices]. Other tensors (newer files add {@code NAME.in_sum}) are ignored on read.</li>
 * <li>legacy {@code .dat} (chosen by that extension): int32 entry count; per entry int32 name length,
 *     the name, int32 ncall, int32 value count, float values = mean of squares * ncall; then int32
 *     chunk count, int32 length and the dataset name. Its importance is value / ncall.</li>
 * </ul>
 * Reading tells the two apart by the GGUF magic, as llama-quantize does.
 */
public final class ImatrixFile {
    static final String DATASETS = "imatrix.datasets";
    static final String CHUNK_COUNT = "imatrix.chunk_count";
    static final String CHUNK_SIZE = "imatrix.chunk_size";
    static final String SUMS = ".in_sum2";
    static final String COUNTS = ".counts";

    private ImatrixFile() {
    }

    /** Whether {@code path} is written in the legacy format: its name ends in .dat. */
    public static boolean isLegacy(Path path) {
        return path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".dat");
    }

    /** Writes the imatrix in the format its name asks for (legacy for .dat, else GGUF), atomically. */
    public static void write(Imatrix imatrix, Path path) throws IOException {
        if (isLegacy(path)) {
            AtomicFile.write(path, legacyBytes(imatrix));
        } else {
            gguf(imatrix).write(path, null);
        }
    }

    private static GgufWriter gguf(Imatrix imatrix) {
        GgufWriter writer = new GgufWriter();
        writer.putString("general.type", "imatrix");
        // llama-quantize prints datasets[0] unconditionally: never leave the array empty
        List<String> datasets = imatrix.datasets().isEmpty() ? List.of("") : imatrix.datasets();
        writer.put(DATASETS, GgufValue.ofArray(GgufArray.ofStrings(datasets)));
        writer.putUInt32(CHUNK_COUNT, imatrix.chunkCount());
        writer.putUInt32(CHUNK_SIZE, imatrix.chunkSize());
        imatrix.entries().forEach((name, e) -> {
            long matrices = e.counts().length;
            writer.addTensor(name + SUMS, GgmlType.F32, new long[] {e.columns(), matrices},
                    arena -> arena.allocateFrom(LittleEndian.FLOAT, e.sums()));
            writer.addTensor(name + COUNTS, GgmlType.F32, new long[] {1, matrices},
                    arena -> arena.allocateFrom(LittleEndian.FLOAT, e.counts()));
        });
        return writer;
    }

    /** save_imatrix_legacy: values = sum / count * ncall, ncall = ceil(max count / chunk size). */
    static byte[] legacyBytes(Imatrix imatrix) {
        int chunkSize = Math.max(1, imatrix.chunkSize());
        List<byte[]> names = new ArrayList<>();
        long size = 4;
        for (var e : imatrix.entries().entrySet()) {
            byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
            names.add(name);
            size += 4 + name.length + 4 + 4 + 4L * e.getValue().sums().length;
        }
        String dataset = imatrix.datasets().isEmpty() ? "" : imatrix.datasets().getLast();
        byte[] datasetBytes = dataset.getBytes(StandardCharsets.UTF_8);
        size += 4 + 4 + datasetBytes.length;
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(size)).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(imatrix.entries().size());
        int i = 0;
        for (Imatrix.Entry e : imatrix.entries().values()) {
            byte[] name = names.get(i++);
            out.putInt(name.length).put(name);
            float maxCount = 0;
            for (float c : e.counts()) {
                maxCount = Math.max(maxCount, c);
            }
            int ncall = (int) (((long) maxCount + chunkSize - 1) / chunkSize);
            out.putInt(ncall);
            out.putInt(e.sums().length);
            int columns = e.columns();
            for (int j = 0; j < e.sums().length; j++) {
                float count = e.counts()[j / columns];
                float value = e.sums()[j];
                if (count == 0.0f) { // llama.cpp stores 1 for a matrix that saw no data
                    value = 1.0f;
                    count = 1.0f;
                }
                out.putFloat((value / count) * ncall);
            }
        }
        out.putInt(imatrix.chunkCount());
        out.putInt(datasetBytes.length).put(datasetBytes);
        return out.array();
    }

    /** Reads either format. */
    public static Imatrix read(Path path) throws IOException {
        byte[] head = new byte[4];
        try (var in = Files.newInputStream(path)) {
            int n = in.readNBytes(head, 0, 4);
            if (n == 4 && ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).getInt() == GgufFile.MAGIC) {
                return readGguf(path);
            }
        }
        return readLegacy(path, Files.readAllBytes(path));
    }

    private static Imatrix readGguf(Path path) {
        try (GgufFile file = GgufFile.open(path)) {
            var meta = file.metadata();
            Map<String, GgufTensorInfo> sums = new TreeMap<>();
            Map<String, GgufTensorInfo> counts = new TreeMap<>();
            for (GgufTensorInfo t : file.tensors()) {
                if (t.name().endsWith(SUMS)) {
                    sums.put(t.name().substring(0, t.name().length() - SUMS.length()), t);
                } else if (t.name().endsWith(COUNTS)) {
                    counts.put(t.name().substring(0, t.name().length() - COUNTS.length()), t);
                }
            }
            if (sums.isEmpty() && counts.isEmpty()) {
                throw new ImatrixException(path + ": a GGUF file without imatrix tensors (NAME.in_sum2 / NAME.counts)");
            }
            Map<String, Imatrix.Entry> entries = new TreeMap<>();
            for (String name : union(sums, counts)) {
                GgufTensorInfo s = sums.get(name);
                GgufTensorInfo c = counts.get(name);
                if (s == null || c == null) {
                    throw new ImatrixException(path + ": mismatched sums and counts for " + name);
                }
                float[] sumValues = floats(file, s, path);
                float[] countValues = floats(file, c, path);
                long matrices = s.dims() > 1 ? s.elementCount() / s.dim(0) : 1;
                if (countValues.length != matrices) {
                    throw new ImatrixException(path + ": " + name + " has " + matrices + " matrices of sums but "
                            + countValues.length + " counts");
                }
                entries.put(name, new Imatrix.Entry(sumValues, countValues));
            }
            int chunkCount = (int) meta.getLong(CHUNK_COUNT, 0);
            int chunkSize = (int) meta.getLong(CHUNK_SIZE, 0);
            List<String> datasets = meta.has(DATASETS) ? meta.getStringArray(DATASETS) : List.of();
            return new Imatrix(new TreeMap<>(entries), chunkCount, chunkSize, datasets);
        } catch (GgufException e) {
            throw new ImatrixException(path + ": " + e.getMessage());
        }
    }

    private static List<String> union(Map<String, ?> a, Map<String, ?> b) {
        var names = new java.util.TreeSet<String>(a.keySet());
        names.addAll(b.keySet());
        return List.copyOf(names);
    }

    private static float[] floats(GgufFile file, GgufTensorInfo t, Path path) {
        if (t.type() != GgmlType.F32) {
            throw new ImatrixException(path + ": imatrix tensor " + t.name() + " is " + t.type() + ", not F32");
        }
        MemorySegment data = file.tensorData(t);
        float[] values = new float[Math.toIntExact(t.elementCount())];
        MemorySegment.copy(data, LittleEndian.FLOAT, 0, values, 0, values.length);
        return values;
    }

    /**
     * load_legacy_imatrix: the values divided by ncall (when positive) are the importance; they are
     * kept as sums over a count of 1 so that {@link Imatrix.Entry#importance()} gives them back.
     */
    static Imatrix readLegacy(Path path, byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        try {
            int n = in.getInt();
            if (n < 1) {
                throw new ImatrixException(path + ": not an imatrix file (no GGUF magic, and " + n + " legacy entries)");
            }
            Map<String, Imatrix.Entry> entries = new TreeMap<>();
            for (int i = 0; i < n; i++) {
                int length = in.getInt();
                if (length < 1 || length > in.remaining()) {
                    throw new ImatrixException(path + ": entry " + (i + 1) + " has a name of " + length + " bytes");
                }
                byte[] name = new byte[length];
                in.get(name);
                int ncall = in.getInt();
                int count = in.getInt();
                if (count < 1 || count > in.remaining() / 4) {
                    throw new ImatrixException(path + ": entry " + (i + 1) + " claims " + count + " values");
                }
                float[] values = new float[count];
                in.asFloatBuffer().get(values);
                in.position(in.position() + 4 * count);
                if (ncall > 0) {
                    for (int j = 0; j < count; j++) {
                        values[j] /= ncall;
                    }
                }
                entries.put(new String(name, StandardCharsets.UTF_8), new Imatrix.Entry(values, new float[] {1f}));
            }
            int chunks = 0;
            List<String> datasets = List.of();
            if (in.remaining() >= 8) { // newer files end with the chunk count and the dataset's name
                chunks = in.getInt();
                int length = in.getInt();
                if (length < 0 || length > in.remaining()) {
                    throw new ImatrixException(path + ": dataset name of " + length + " bytes");
                }
                byte[] dataset = new byte[length];
                in.get(dataset);
                datasets = List.of(new String(dataset, StandardCharsets.UTF_8));
            }
            return new Imatrix(new TreeMap<>(entries), chunks, 0, datasets);
        } catch (BufferUnderflowException e) {
            throw new ImatrixException(path + ": truncated imatrix file (" + bytes.length + " bytes)");
        }
    }
}
