package io.panllm.cli;

import io.panllm.gguf.GgufFile;
import io.panllm.gguf.GgufMetadata;
import io.panllm.gguf.GgufTensorInfo;
import io.panllm.hf.HfConfig;
import io.panllm.llama2c.Llama2cCheckpoint;
import io.panllm.safetensors.BnbTensors;
import io.panllm.safetensors.SafetensorsCheckpoint;
import io.panllm.safetensors.SafetensorsDtype;
import io.panllm.safetensors.SafetensorsFile;
import io.panllm.safetensors.SafetensorsTensor;
import io.panllm.tensor.GgmlType;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code panllm info FILE}: metadata and tensor table of a model file. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Print a model file's metadata and tensor table (name, type, shape, bytes).%n"
                + "Reads GGUF files, safetensors (a file or a checkpoint directory) and llama2.c checkpoints.")
final class InfoCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "FILE", description = "model file or checkpoint directory")
    Path file;

    @Option(names = "--no-tensors", description = "print the metadata only")
    boolean noTensors;

    @Option(names = "--full-arrays", description = "print metadata arrays in full instead of a summary")
    boolean fullArrays;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        ModelFiles.Kind kind = ModelFiles.detect(file);
        switch (kind) {
            case GGUF -> printGguf(out);
            case SAFETENSORS, HF_DIRECTORY -> printSafetensors(out, kind);
            case LLAMA2C -> printLlama2c(out);
        }
        out.flush();
        return ExitCodes.OK;
    }

    private void printGguf(PrintWriter out) {
        try (GgufFile f = GgufFile.open(file)) {
            out.printf("%s: GGUF v%d, %d metadata keys, %d tensors, alignment %d, %s%n", file, f.version(),
                    f.metadata().keys().size(), f.tensors().size(), f.alignment(), Table.bytes(f.fileSize()));
            GgufMetadata m = f.metadata();
            Table meta = new Table("key", "type", "value");
            for (String key : m.keys()) {
                var v = m.get(key);
                String shown = fullArrays && v.value() instanceof io.panllm.gguf.GgufArray a ? String.valueOf(a.values() instanceof java.util.List<?> l ? l : a) : v.toString();
                meta.row(key, v.type().name().toLowerCase(), Table.abbreviate(shown, fullArrays ? Integer.MAX_VALUE : 100));
            }
            meta.print(out);
            if (noTensors) {
                return;
            }
            out.println();
            Table t = new Table("tensor", "type", "shape", "bytes");
            Map<GgmlType, long[]> perType = new EnumMap<>(GgmlType.class);
            long params = 0;
            long bytes = 0;
            for (GgufTensorInfo info : f.tensors()) {
                t.row(info.name(), info.type().name(), Table.shape(info.shape()), Table.bytes(info.byteSize()));
                long[] acc = perType.computeIfAbsent(info.type(), k -> new long[2]);
                acc[0] += info.elementCount();
                acc[1] += info.byteSize();
                params += info.elementCount();
                bytes += info.byteSize();
            }
            t.print(out);
            out.printf("%n%,d parameters in %s (%.2f bits per weight)%n", params, Table.bytes(bytes), params == 0 ? 0 : 8.0 * bytes / params);
            perType.forEach((type, acc) -> out.printf("  %-8s %,14d parameters  %s%n", type, acc[0], Table.bytes(acc[1])));
        }
    }

    /** A .safetensors file or an HF checkpoint directory: config.json, header metadata, tensors. */
    private void printSafetensors(PrintWriter out, ModelFiles.Kind kind) {
        HfConfig config = kind == ModelFiles.Kind.HF_DIRECTORY && Files.isRegularFile(file.resolve(HfConfig.FILE_NAME))
                ? HfConfig.read(file) : null;
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(file)) {
            long size = 0;
            for (SafetensorsFile shard : c.shards()) {
                size += sizeOf(shard.path());
            }
            out.printf("%s: safetensors, %d file%s, %d tensors, %s%n", file, c.shards().size(), c.shards().size() == 1 ? "" : "s",
                    c.names().size(), Table.bytes(size));
            if (config != null) {
                printHfConfig(out, config);
            }
            if (!c.metadata().isEmpty()) {
                out.println();
                Table meta = new Table("metadata", "value");
                c.metadata().forEach((k, v) -> meta.row(k, Table.abbreviate(v, fullArrays ? Integer.MAX_VALUE : 100)));
                meta.print(out);
            }
            if (noTensors) {
                return;
            }
            out.println();
            Table t = new Table("tensor", "dtype", "shape", "bytes", "bitsandbytes");
            Map<SafetensorsDtype, long[]> perType = new EnumMap<>(SafetensorsDtype.class);
            long logicalParameters = 0;
            for (String name : c.names()) {
                SafetensorsTensor tensor = c.require(name);
                String quantized = "";
                if (name.endsWith(".weight")) {
                    String module = name.substring(0, name.length() - ".weight".length());
                    if (BnbTensors.kind(c, module) != BnbTensors.Kind.PLAIN) {
                        BnbTensors.Weight w = BnbTensors.weight(c, module);
                        long[] shape = w.shape();
                        quantized = w.kind().name().toLowerCase(Locale.ROOT) + " " + Table.shape(shape);
                        logicalParameters += w.rows() * w.rowLength() - tensor.elementCount();
                    }
                }
                t.row(tensor.name(), tensor.dtype().name(), Table.shape(tensor.shape()), Table.bytes(tensor.data().byteSize()),
                        quantized);
                long[] acc = perType.computeIfAbsent(tensor.dtype(), k -> new long[2]);
                acc[0] += tensor.elementCount();
                acc[1] += tensor.data().byteSize();
                logicalParameters += tensor.elementCount();
            }
            t.print(out);
            out.printf("%n%,d parameters (bitsandbytes weights counted at their logical shape)%n", logicalParameters);
            perType.forEach((type, acc) -> out.printf("  %-8s %,14d elements  %s%n", type, acc[0], Table.bytes(acc[1])));
        }
    }

    private static long sizeOf(Path path) {
        try {
            return Files.size(path);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void printHfConfig(PrintWriter out, HfConfig c) {
        Table t = new Table("config.json", "value");
        t.row("architectures", String.join(", ", c.architectures()));
        t.row("hidden_size", String.valueOf(c.hiddenSize()));
        t.row("intermediate_size", String.valueOf(c.intermediateSize()));
        t.row("num_hidden_layers", String.valueOf(c.numHiddenLayers()));
        t.row("num_attention_heads", String.valueOf(c.numAttentionHeads()));
        t.row("num_key_value_heads", String.valueOf(c.numKeyValueHeads()));
        t.row("head_dim", String.valueOf(c.headDim()));
        t.row("rms_norm_eps", String.valueOf(c.rmsNormEps()));
        t.row("rope_theta", String.valueOf(c.ropeTheta()));
        if (c.ropeScaling() != null) {
            HfConfig.RopeScaling r = c.ropeScaling();
            t.row("rope_scaling", r.type() + " factor " + r.factor() + ", low/high freq " + r.lowFreqFactor() + "/"
                    + r.highFreqFactor() + ", original context " + r.originalMaxPositionEmbeddings());
        }
        t.row("max_position_embeddings", String.valueOf(c.maxPositionEmbeddings()));
        t.row("vocab_size", String.valueOf(c.vocabSize()));
        t.row("tie_word_embeddings", String.valueOf(c.tieWordEmbeddings()));
        t.row("bos / eos token ids", c.bosTokenIds() + " / " + c.eosTokenIds());
        t.row("torch_dtype", String.valueOf(c.torchDtype()));
        if (c.quantizationConfig() != null) {
            HfConfig.QuantizationConfig q = c.quantizationConfig();
            t.row("quantization", q.quantMethod() + (q.loadIn4bit() ? " 4-bit " + q.bnb4bitQuantType()
                    + (q.bnb4bitUseDoubleQuant() ? " double-quantized" : "") + ", compute " + q.bnb4bitComputeDtype() : "")
                    + (q.loadIn8bit() ? " LLM.int8" : ""));
        }
        c.unsupported().forEach(u -> t.row("not supported", u));
        t.print(out);
    }

    /** A llama2.c checkpoint: header hyper-parameters and the tensors it holds under llama.cpp names. */
    private void printLlama2c(PrintWriter out) {
        try (Llama2cCheckpoint c = Llama2cCheckpoint.open(file)) {
            Llama2cCheckpoint.Config cfg = c.config();
            out.printf("%s: llama2.c checkpoint, version %d, %d tensors%n", file, c.version(), c.tensors().size());
            Table meta = new Table("header", "value");
            meta.row("dim", String.valueOf(cfg.dim()));
            meta.row("hidden_dim", String.valueOf(cfg.hiddenDim()));
            meta.row("n_layers", String.valueOf(cfg.layers()));
            meta.row("n_heads", String.valueOf(cfg.heads()));
            meta.row("n_kv_heads", String.valueOf(cfg.kvHeads()));
            meta.row("vocab_size", String.valueOf(cfg.vocabSize()));
            meta.row("seq_len", String.valueOf(cfg.seqLen()));
            meta.row("shared_classifier", String.valueOf(cfg.sharedClassifier()));
            if (c.version() == 2) {
                meta.row("group_size", String.valueOf(c.groupSize()));
            }
            meta.print(out);
            if (noTensors) {
                return;
            }
            out.println();
            Table t = new Table("tensor", "type", "shape", "bytes");
            long params = 0;
            long bytes = 0;
            for (Llama2cCheckpoint.Tensor tensor : c.tensors().values()) {
                long size = tensor.values().byteSize() + (tensor.quantized() ? tensor.scales().byteSize() : 0);
                t.row(tensor.name(), tensor.quantized() ? "int8 (group " + tensor.groupSize() + ")" : "F32",
                        Table.shape(tensor.shape()), Table.bytes(size));
                params += tensor.elementCount();
                bytes += size;
            }
            t.print(out);
            out.printf("%n%,d parameters in %s%n", params, Table.bytes(bytes));
        }
    }
}
