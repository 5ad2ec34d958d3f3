package io.panllm.runtime.convert;

import io.panllm.gguf.GgufValue;
import io.panllm.gguf.GgufWriter;
import io.panllm.tensor.BlockCodec;
import io.panllm.tensor.GgmlType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Writes a {@link ModelSource} as GGUF, choosing each tensor's type with a {@link QuantPolicy} and
 * quantizing row chunks on all cores. Streaming: one tensor is in memory at a time.
 */
public final class Converter {
    /** Floats quantized per task: large enough to amortise, small enough to spread over cores. */
    private static final int CHUNK_ELEMENTS = 1 << 18;

    /** Told as tensors are written. */
    public interface Progress {
        void tensor(int index, int count, String name, GgmlType type, long bytesDone, long bytesTotal);
    }

    /** What was written. */
    public record Result(Path file, long bytes, long parameters, Map<GgmlType, Long> parametersPerType) {
    }

    private Converter() {
    }

    public static Result convert(ModelSource source, QuantPolicy policy, Path output, Progress progress) throws IOException {
        GgufWriter writer = new GgufWriter();
        for (Map.Entry<String, GgufValue> e : source.metadata().entrySet()) {
            writer.put(e.getKey(), e.getValue());
        }
        TargetType target = policy.target();
        if (target.fileType >= 0) {
            writer.putUInt32("general.file_type", target.fileType);
        } else {
            writer.remove("general.file_type");
            writer.putString("panllm.extension_types", target.base.name());
        }
        if (target.base.isQuantized()) {
            writer.putUInt32("general.quantization_version", 2);
        }
        List<SourceTensor> tensors = source.tensors();
        List<GgmlType> types = new ArrayList<>();
        Map<GgmlType, Long> perType = new java.util.EnumMap<>(GgmlType.class);
        long parameters = 0;
        long bytes = 0;
        for (SourceTensor t : tensors) {
            GgmlType type = policy.typeFor(t.name(), t.shape());
            checkCodec(type, t);
            types.add(type);
            writer.addTensor(t.name(), type, t.shape(), arena -> encode(t, type, arena));
            perType.merge(type, t.elementCount(), Long::sum);
            parameters += t.elementCount();
            bytes += type.byteSize(t.elementCount());
        }
        writer.write(output, progress == null ? null
                : (i, n, name, done, total) -> progress.tensor(i, n, name, types.get(i), done, total));
        return new Result(output, bytes, parameters, perType);
    }

    private static void checkCodec(GgmlType type, SourceTensor t) {
        if (type == t.sourceType() && t.raw() != null) {
            return;
        }
        if (!type.codec().canQuantize()) {
            throw new ConvertException("cannot write tensor '" + t.name() + "' as " + type + ": no quantizer for that type");
        }
    }

    /** Produces a tensor's bytes in {@code type}: copied through when it already is, else quantized. */
    static MemorySegment encode(SourceTensor t, GgmlType type, Arena arena) throws IOException {
        if (type == t.sourceType() && t.raw() != null) {
            return t.raw();
        }
        long rowLength = t.rowLength();
        long rows = t.rowCount();
        long rowBytes = type.byteSize(rowLength);
        MemorySegment out = arena.allocate(rowBytes * rows, 64);
        int rowsPerChunk = (int) Math.max(1, Math.min(rows, CHUNK_ELEMENTS / Math.max(1, rowLength)));
        int chunks = (int) ((rows + rowsPerChunk - 1) / rowsPerChunk);
        BlockCodec codec = type.codec();
        try {
            IntStream.range(0, chunks).parallel().forEach(c -> {
                long first = (long) c * rowsPerChunk;
                int count = (int) Math.min(rowsPerChunk, rows - first);
                float[] buffer = new float[Math.toIntExact(count * rowLength)];
                try {
                    t.rows().read(first, count, buffer);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                codec.quantize(buffer, 0, buffer.length, out.asSlice(first * rowBytes, count * rowBytes));
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        return out;
    }
}
