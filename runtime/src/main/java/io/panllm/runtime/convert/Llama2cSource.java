package io.panllm.runtime.convert;

import io.panllm.gguf.GgufValue;
import io.panllm.llama2c.Llama2cCheckpoint;
import io.panllm.runtime.tokenizer.GgufTokenizerMetadata;
import io.panllm.runtime.tokenizer.Tokenizer;
import io.panllm.runtime.tokenizer.Tokenizers;
import io.panllm.tensor.GgmlType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A llama2.c checkpoint with its tokenizer.bin as a model source. Its tensors already carry
 * llama.cpp's names and need no permutation (see {@link Llama2cCheckpoint}); llama2.c's fixed
 * hyper-parameters (RMS epsilon 1e-5, RoPE base 10000) are written out as metadata.
 */
public final class Llama2cSource implements ModelSource {
    private final Llama2cCheckpoint checkpoint;
    private final Tokenizer tokenizer;
    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<SourceTensor> tensors;

    /**
     * @param tokenizerFile the tokenizer.bin, or null to look beside the checkpoint for
     *                      tokenizer.bin or tok{vocab_size}.bin
     */
    public Llama2cSource(Path checkpointFile, Path tokenizerFile) {
        checkpoint = Llama2cCheckpoint.open(checkpointFile);
        try {
            Llama2cCheckpoint.Config c = checkpoint.config();
            Path tok = tokenizerFile != null ? tokenizerFile : findTokenizer(checkpointFile, c.vocabSize());
            tokenizer = Tokenizers.fromLlama2c(tok);
            if (tokenizer.vocabSize() != c.vocabSize()) {
                throw new ConvertException(tok + " has " + tokenizer.vocabSize() + " tokens, the checkpoint " + c.vocabSize());
            }
            String arch = "llama";
            String name = checkpointFile.getFileName().toString().replaceFirst("\\.bin$", "");
            metadata.put("general.architecture", GgufValue.ofString(arch));
            metadata.put("general.name", GgufValue.ofString(name));
            metadata.put(arch + ".context_length", GgufValue.ofUInt32(c.seqLen()));
            metadata.put(arch + ".embedding_length", GgufValue.ofUInt32(c.dim()));
            metadata.put(arch + ".block_count", GgufValue.ofUInt32(c.layers()));
            metadata.put(arch + ".feed_forward_length", GgufValue.ofUInt32(c.hiddenDim()));
            metadata.put(arch + ".rope.dimension_count", GgufValue.ofUInt32(c.headDim()));
            metadata.put(arch + ".attention.head_count", GgufValue.ofUInt32(c.heads()));
            metadata.put(arch + ".attention.head_count_kv", GgufValue.ofUInt32(c.kvHeads()));
            metadata.put(arch + ".attention.layer_norm_rms_epsilon", GgufValue.ofFloat32(1e-5f));
            metadata.put(arch + ".rope.freq_base", GgufValue.ofFloat32(10000f));
            metadata.putAll(GgufTokenizerMetadata.write(tokenizer.vocabulary()));
            GgmlType stored = checkpoint.version() == 2 ? GgmlType.Q8_0 : GgmlType.F32;
            tensors = checkpoint.tensors().values().stream()
                    .map(t -> new SourceTensor(t.name(), t.shape(), t.shape().length == 1 ? GgmlType.F32 : stored, null,
                            t::readRows))
                    .toList();
        } catch (RuntimeException e) {
            checkpoint.close();
            throw e;
        }
    }

    private static Path findTokenizer(Path checkpointFile, int vocabSize) {
        Path dir = checkpointFile.toAbsolutePath().getParent();
        for (String candidate : new String[] {"tokenizer.bin", "tok" + vocabSize + ".bin"}) {
            Path p = dir.resolve(candidate);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new ConvertException(checkpointFile + ": no tokenizer.bin or tok" + vocabSize + ".bin beside it; give one with --vocab");
    }

    public Llama2cCheckpoint checkpoint() {
        return checkpoint;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public Map<String, GgufValue> metadata() {
        return metadata;
    }

    @Override
    public List<SourceTensor> tensors() {
        return tensors;
    }

    @Override
    public String description() {
        return "llama2.c checkpoint " + checkpoint.path() + " (version " + checkpoint.version() + ")";
    }

    @Override
    public void close() {
        checkpoint.close();
    }
}
