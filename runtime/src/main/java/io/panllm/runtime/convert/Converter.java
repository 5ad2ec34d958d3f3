package io.panllm.runtime.convert;

import io.panllm.gguf.GgufValue;
import io.panllm.runtime.calibration.Imatrix;
import io.panllm.gguf.GgufWriter;
import io.panllm.tensor.BlockCodec;
import io.panllm.runtime.model.ModelWeights;
import io.panllm.tensor.GgmlType;
import io.panllm.tensor.Int8RowWise;
import io.panllm.tensor.LittleEndian;
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
        return convert(source, policy, output, progress, null);
    }

    /**
     * Converts with importance weights: a tensor with an entry in {@code imatrix} whose type has a
     * weighted quantizer is quantized as llama-quantize --imatrix does; the others as without one.
     *
     * @param imatrix null for none
     * @throws ConvertException when an entry does not fit its tensor's rows
     */
    public static Result convert(ModelSource source, QuantPolicy policy, Path output, Progress progress, Imatrix imatrix)
            throws IOException {
        GgufWriter writer = new GgufWriter();
        for (Map.Entry<String, GgufValue> e : source.metadata().entrySet()) {
            writer.put(e.getKey(), e.getValue());
        }
        TargetType target = policy.target();
        if (target.fileType >= 0) {
            writer.putUInt32("general.file_type", target.fileType);
        } else {
            writer.remove("general.file_type");
            writer.putString("panllm.extension_types", target.name());
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
            float[] importance = importanceFor(imatrix, t, type);
            types.add(type);
            perType.merge(type, t.elementCount(), Long::sum);
            parameters += t.elementCount();
            bytes += type.byteSize(t.elementCount());
            if (type != GgmlType.I8) {
                writer.addTensor(t.name(), type, t.shape(), arena -> encode(t, type, importance, arena));
                continue;
            }
            // LLM.int8: the row absmax (SCB) follows the codes as its own F32 tensor. Quantizing
            // the codes computes it; the writer asks for the two in this order.
            float[] scb = new float[Math.toIntExact(t.rowCount())];
            boolean[] quantized = {false};
            writer.addTensor(t.name(), type, t.shape(), arena -> {
                MemorySegment codes = encodeInt8(t, scb, arena);
                quantized[0] = true;
                return codes;
            });
            types.add(GgmlType.F32);
            writer.addTensor(ModelWeights.rowScalesName(t.name()), GgmlType.F32, new long[] {t.rowCount()}, arena -> {
                if (!quantized[0]) {
                    throw new IllegalStateException("the row scales of '" + t.name() + "' were asked for before its codes");
                }
                return arena.allocateFrom(LittleEndian.FLOAT, scb);
            });
            bytes += 4L * scb.length;
        }
        writer.write(output, progress == null ? null
                : (i, n, name, done, total) -> progress.tensor(i, n, name, types.get(i), done, total));
        return new Result(output, bytes, parameters, perType);
    }

    private static void checkCodec(GgmlType type, SourceTensor t) {
        if (copiesThrough(t, type)) {
            return;
        }
        if (!type.codec().canQuantize()) {
            throw new ConvertException("cannot write tensor '" + t.name() + "' as " + type + ": no quantizer for that type");
        }
    }

    /**
     * The importance weights for the tensor's columns, or null: no imatrix, no entry for it (as
     * llama-quantize, which then quantizes it without), or a type that does not use them.
     */
    private static float[] importanceFor(Imatrix imatrix, SourceTensor t, GgmlType type) {
        if (imatrix == null || copiesThrough(t, type) || !type.codec().usesImportance()) {
            return null;
        }
        float[] importance = imatrix.importance(t.name());
        if (importance != null && importance.length != t.rowLength()) {
            throw new ConvertException("imatrix entry for '" + t.name() + "' has " + importance.length
                    + " values but the tensor's rows have " + t.rowLength() + " columns: an imatrix of another model?");
        }
        return importance;
    }

    /** How many of the source's tensors {@code convert} would quantize with importance weights. */
    public static int weightedTensorCount(ModelSource source, QuantPolicy policy, Imatrix imatrix) {
        int n = 0;
        for (SourceTensor t : source.tensors()) {
            if (importanceFor(imatrix, t, policy.typeFor(t.name(), t.shape())) != null) {
                n++;
            }
        }
        return n;
    }

    /**
     * Whether the tensor's bytes are copied as stored. Never for I8: its codes are only right with
     * the row absmax the converter writes beside them, so they are quantized again (losslessly:
     * q * SCB / 127 quantizes back to q).
     */
    private static boolean copiesThrough(SourceTensor t, GgmlType type) {
        return type == t.sourceType() && t.raw() != null && type != GgmlType.I8;
    }

    /** Produces a tensor's bytes in {@code type} (not I8): copied through when it already is, else quantized. */
    static MemorySegment encode(SourceTensor t, GgmlType type, Arena arena) throws IOException {
        return encode(t, type, null, arena);
    }

    /** As above, weighting the columns by {@code importance} (null: unweighted). */
    static MemorySegment encode(SourceTensor t, GgmlType type, float[] importance, Arena arena) throws IOException {
        if (copiesThrough(t, type)) {
            return t.raw();
        }
        long rowBytes = type.byteSize(t.rowLength());
        MemorySegment out = arena.allocate(rowBytes * t.rowCount(), 64);
        BlockCodec codec = type.codec();
        int rowLength = Math.toIntExact(t.rowLength());
        forEachRowChunk(t, (first, count, values) ->
                codec.quantizeRows(values, 0, count, rowLength, importance, out.asSlice(first * rowBytes, count * rowBytes)));
        return out;
    }

    /** LLM.int8 codes of the tensor; each row's absmax (bitsandbytes' SCB) goes to {@code scb}. */
    private static MemorySegment encodeInt8(SourceTensor t, float[] scb, Arena arena) throws IOException {
        int cols = Math.toIntExact(t.rowLength());
        MemorySegment out = arena.allocate((long) cols * t.rowCount(), 64);
        forEachRowChunk(t, (first, count, values) -> {
            float[] chunkScb = new float[count];
            Int8RowWise.quantize(values, 0, count, cols, out.asSlice(first * cols, (long) count * cols), chunkScb);
            System.arraycopy(chunkScb, 0, scb, (int) first, count);
        });
        return out;
    }

    private interface RowChunk {
        void accept(long first, int count, float[] values);
    }

    /** Reads the tensor in chunks of rows on all cores and hands each chunk's floats to {@code chunk}. */
    private static void forEachRowChunk(SourceTensor t, RowChunk chunk) throws IOException {
        long rowLength = t.rowLength();
        long rows = t.rowCount();
        int rowsPerChunk = (int) Math.max(1, Math.min(rows, CHUNK_ELEMENTS / Math.max(1, rowLength)));
        int chunks = (int) ((rows + rowsPerChunk - 1) / rowsPerChunk);
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
                chunk.accept(first, count, buffer);
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
