package io.panllm.runtime.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.panllm.gguf.GgufMetadata;
import io.panllm.hf.BnbCheckpointWriter;
import io.panllm.hf.HfConfig;
import io.panllm.io.AtomicFile;
import io.panllm.safetensors.BnbTensors;
import io.panllm.safetensors.SafetensorsDtype;
import io.panllm.safetensors.SafetensorsWriter;
import io.panllm.tensor.Bnb4bit;
import io.panllm.tensor.BlockCodec;
import io.panllm.tensor.GgmlType;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Writes a {@link ModelSource} (GGUF, HF checkpoint, llama2.c, random weights) as a Hugging Face
 * Llama checkpoint directory that {@code transformers.AutoModelForCausalLM.from_pretrained} loads:
 * config.json, sharded safetensors (+ model.safetensors.index.json), tokenizer files.
 *
 * <p>Tensors get back their HF names ({@link LlamaTensorNames}) and shapes, and Q/K rows are
 * un-permuted from llama.cpp's adjacent-pair RoPE order back to HF's rotate_half order. Weights
 * are F32, F16 or BF16, or bitsandbytes NF4 / FP4 / LLM.int8 for the decoder's linear layers
 * (the rest in BF16) in the key layout bitsandbytes saves ({@link BnbTensors}) with the
 * quantization_config transformers writes ({@link BnbCheckpointWriter#quantizationConfig}).
 *
 * <p>config.json uses transformers 4.x's layout (top-level rope_theta / rope_scaling, torch_dtype),
 * which transformers 5 reads as well; from an HF source its own config.json is kept, less the
 * quantization_config. Llama 3's rope scaling, which GGUF only holds as the rope_freqs.weight
 * factors, is recovered as the rope_scaling parameters that reproduce those factors exactly, or
 * refused. Everything is written in a hidden directory beside the target, renamed into place when
 * complete.
 */
public final class HfExport {
    private HfExport() {
    }

    /** transformers 4's default max_shard_size ("5GB"). */
    public static final long DEFAULT_SHARD_BYTES = 5_000_000_000L;

    /** The weight formats of a Hugging Face checkpoint. */
    public enum Format {
        F32("float32"), F16("float16"), BF16("bfloat16"), NF4("bfloat16"), FP4("bfloat16"), INT8("bfloat16");

        /** config.json's torch_dtype: the dtype of the unquantized tensors. */
        public final String torchDtype;

        Format(String torchDtype) {
            this.torchDtype = torchDtype;
        }

        /** f32, f16, bf16, nf4, fp4 or int8 (case-insensitive), else an IllegalArgumentException saying which are. */
        public static Format parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("a Hugging Face checkpoint holds f32, f16, bf16, nf4, fp4 or int8 weights, not '"
                        + s + "'");
            }
        }

        boolean isBitsAndBytes() {
            return this == NF4 || this == FP4 || this == INT8;
        }

        GgmlType plainType() {
            return switch (this) {
                case F32 -> GgmlType.F32;
                case F16 -> GgmlType.F16;
                default -> GgmlType.BF16;
            };
        }

        SafetensorsDtype plainDtype() {
            return switch (this) {
                case F32 -> SafetensorsDtype.F32;
                case F16 -> SafetensorsDtype.F16;
                default -> SafetensorsDtype.BF16;
            };
        }
    }

    /**
     * @param files the files written, under their final names
     * @param notes what the checkpoint lacks (e.g. no tokenizer files), for the user
     */
    public record Result(Path directory, List<Path> files, long parameters, List<String> notes) {
    }

    /** Floats per chunk of rows encoded at a time. */
    private static final int CHUNK_ELEMENTS = 1 << 18;

    /**
     * Writes the checkpoint into {@code target}, a directory that must not exist unless
     * {@code replace} (then it is replaced as a whole once the new one is complete).
     */
    public static Result export(ModelSource source, Format format, Path target, long maxShardBytes, boolean replace)
            throws IOException {
        GgufMetadata meta = new GgufMetadata(source.metadata(), source.description());
        String arch = meta.getString("general.architecture", "");
        if (!arch.equals("llama")) {
            throw new ConvertException(source.description() + ": architecture '" + arch
                    + "' cannot be written as a Hugging Face checkpoint (panllm writes LlamaForCausalLM)");
        }
        Path absolute = target.toAbsolutePath().normalize();
        if (Files.exists(absolute) && !replace) {
            throw new IllegalArgumentException(target + " exists (add --force to replace it)");
        }
        HfConfigJson configJson = HfConfigJson.of(source, meta, format);
        Path parent = absolute.getParent();
        Files.createDirectories(parent);
        Path staging = Files.createTempDirectory(parent, "." + absolute.getFileName() + ".partial-");
        if (Files.getFileStore(staging).supportsFileAttributeView("posix")) {
            // createTempDirectory makes it owner-only; a checkpoint is for whoever reads the folder
            Files.setPosixFilePermissions(staging, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        List<String> notes = new ArrayList<>();
        long parameters = 0;
        List<Path> names = new ArrayList<>();
        try {
            SafetensorsWriter writer = new SafetensorsWriter().putMetadata("format", "pt");
            for (SourceTensor t : source.tensors()) {
                if (t.name().equals("rope_freqs.weight")) {
                    continue; // config.json's rope_scaling says it
                }
                addTensor(writer, t, LlamaTensorNames.hfName(t.name()), heads(meta, t.name()), format);
                parameters += t.elementCount();
            }
            List<Path> written = new ArrayList<>(writer.writeSharded(staging, maxShardBytes));
            ObjectNode config = configJson.config();
            if (format.isBitsAndBytes()) {
                config.set("quantization_config", BnbCheckpointWriter.quantizationConfig(kind(format), false, format.torchDtype));
            }
            AtomicFile.write(staging.resolve(HfConfig.FILE_NAME), json(config));
            written.add(staging.resolve(HfConfig.FILE_NAME));
            written.addAll(tokenizerFiles(source, meta, staging, notes));
            for (Path p : written) {
                names.add(absolute.resolve(p.getFileName()));
            }
            moveIntoPlace(staging, absolute);
        } finally {
            deleteTree(staging);
        }
        return new Result(absolute, names, parameters, notes);
    }

    private static BnbTensors.Kind kind(Format format) {
        return switch (format) {
            case NF4 -> BnbTensors.Kind.NF4;
            case FP4 -> BnbTensors.Kind.FP4;
            case INT8 -> BnbTensors.Kind.INT8;
            default -> BnbTensors.Kind.PLAIN;
        };
    }

    /** The heads whose rows llama.cpp permuted (attn_q: all, attn_k: the kv heads), 0 for other tensors. */
    private static int heads(GgufMetadata meta, String ggufName) {
        int heads = meta.getInt("llama.attention.head_count");
        if (ggufName.endsWith(".attn_q.weight")) {
            return heads;
        }
        if (ggufName.endsWith(".attn_k.weight")) {
            return meta.getInt("llama.attention.head_count_kv", heads);
        }
        return 0;
    }

    private static void addTensor(SafetensorsWriter writer, SourceTensor t, String hfName, int heads, Format format)
            throws IOException {
        long[] shape = t.isVector() ? new long[] {t.rowLength()} : new long[] {t.rowCount(), t.rowLength()};
        if (t.shape().length > 2) {
            throw new ConvertException("tensor '" + t.name() + "' has " + t.shape().length + " dimensions; a Llama checkpoint has none");
        }
        HfRows rows = new HfRows(t, heads);
        if (format.isBitsAndBytes() && BnbCheckpointWriter.isQuantizedLinear(hfName, shape.length)) {
            String module = hfName.substring(0, hfName.length() - ".weight".length());
            if (format == Format.INT8) {
                BnbTensors.addInt8(writer, module, Math.toIntExact(shape[0]), Math.toIntExact(shape[1]), rows::all);
            } else {
                Bnb4bit.QuantType type = format == Format.NF4 ? Bnb4bit.QuantType.NF4 : Bnb4bit.QuantType.FP4;
                BnbTensors.add4bit(writer, module, type, shape, Bnb4bit.DEFAULT_BLOCK_SIZE, false, format.torchDtype, rows::all);
            }
            return;
        }
        GgmlType type = format.plainType();
        BlockCodec codec = type.codec();
        writer.add(hfName, format.plainDtype(), shape, arena -> {
            long rowBytes = type.byteSize(t.rowLength());
            MemorySegment out = arena.allocate(rowBytes * t.rowCount(), 64);
            int rowsPerChunk = (int) Math.max(1, Math.min(t.rowCount(), CHUNK_ELEMENTS / t.rowLength()));
            float[] buffer = new float[Math.toIntExact(rowsPerChunk * t.rowLength())];
            for (long first = 0; first < t.rowCount(); first += rowsPerChunk) {
                int count = (int) Math.min(rowsPerChunk, t.rowCount() - first);
                int n = Math.toIntExact(count * t.rowLength());
                rows.read(first, count, buffer);
                codec.quantize(buffer, 0, n, out.asSlice(first * rowBytes, count * rowBytes));
            }
            return out;
        });
    }

    /** A source tensor's rows in HF order: Q/K rows un-permuted, others as they are. */
    private record HfRows(SourceTensor tensor, int heads) {
        void read(long firstHfRow, int count, float[] dst) throws IOException {
            if (heads <= 0) {
                tensor.rows().read(firstHfRow, count, dst);
                return;
            }
            int headDim = Math.toIntExact(tensor.rowCount() / heads);
            int columns = Math.toIntExact(tensor.rowLength());
            float[] row = new float[columns];
            for (int r = 0; r < count; r++) {
                tensor.rows().read(ggufRowOf(firstHfRow + r, headDim), 1, row);
                System.arraycopy(row, 0, dst, r * columns, columns);
            }
        }

        float[] all() throws IOException {
            float[] values = new float[Math.toIntExact(tensor.elementCount())];
            read(0, Math.toIntExact(tensor.rowCount()), values);
            return values;
        }
    }

    /** The GGUF row holding HF row {@code hfRow}: the inverse of {@link HfSource#hfRowOf}. */
    static long ggufRowOf(long hfRow, int headDim) {
        long head = hfRow / headDim;
        int within = (int) (hfRow % headDim);
        int half = headDim / 2;
        return head * headDim + 2L * (within % half) + within / half;
    }

    private static byte[] json(JsonNode node) throws IOException {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);
        String text = mapper.writeValueAsString(mapper.treeToValue(node, Object.class)) + "\n";
        return text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** The tokenizer files: copied from an HF source, else made from the GGUF vocabulary where that can be expressed. */
    private static List<Path> tokenizerFiles(ModelSource source, GgufMetadata meta, Path dir, List<String> notes) throws IOException {
        List<Path> written = new ArrayList<>();
        if (source instanceof HfSource hf) {
            for (String side : BnbCheckpointWriter.SIDE_FILES) {
                Path file = hf.directory().resolve(side);
                if (Files.isRegularFile(file)) {
                    Files.copy(file, dir.resolve(side), StandardCopyOption.REPLACE_EXISTING);
                    written.add(dir.resolve(side));
                }
            }
            return written;
        }
        written.addAll(HfTokenizerExport.write(meta, dir, notes));
        return written;
    }

    private static void moveIntoPlace(Path staging, Path target) throws IOException {
        Path old = null;
        if (Files.exists(target)) {
            old = staging.resolveSibling(staging.getFileName() + ".old");
            Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        if (old != null) {
            deleteTree(old);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
