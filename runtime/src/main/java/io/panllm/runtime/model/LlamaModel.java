package io.panllm.runtime.model;

import io.panllm.gguf.GgufFile;
import io.panllm.runtime.LanguageModel;
import io.panllm.runtime.Session;
import io.panllm.runtime.backend.Backend;
import io.panllm.tensor.GgmlType;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;

/**
 * A Llama-family model (llama, mistral, qwen2) on some backend. Sessions made from it share the
 * weights and each own a KV cache.
 */
public final class LlamaModel implements LanguageModel {
    private final ModelWeights weights;
    private final Backend backend;
    private final Backend.BackendModel backendModel;
    private final AutoCloseable ownedSource;

    private LlamaModel(ModelWeights weights, Backend backend, AutoCloseable ownedSource) {
        this.weights = weights;
        this.backend = backend;
        this.backendModel = backend.load(weights);
        this.ownedSource = ownedSource;
    }

    /**
     * The model in an open GGUF file, computed with {@code backend}. The file must stay open while
     * the model is used; closing the model closes neither the file nor the backend.
     */
    public static LlamaModel load(GgufFile file, Backend backend) {
        ModelConfig config = ModelConfig.fromGguf(file);
        return new LlamaModel(ModelWeights.fromGguf(file, config), backend, null);
    }

    /** Opens and maps a GGUF file; the model closes the file when it is closed (not the backend). */
    public static LlamaModel open(Path path, Backend backend) {
        GgufFile file = GgufFile.open(path);
        try {
            ModelConfig config = ModelConfig.fromGguf(file);
            return new LlamaModel(ModelWeights.fromGguf(file, config), backend, file);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /**
     * A model from tensors in memory, named as llama.cpp names them (a converted llama2.c
     * checkpoint, a test model). The memory must stay valid while the model is used.
     */
    public static LlamaModel fromTensors(ModelConfig config, Map<String, TensorView> tensors, Backend backend) {
        return new LlamaModel(ModelWeights.of(config, tensors), backend, null);
    }

    public ModelConfig config() {
        return weights.config();
    }

    public ModelWeights weights() {
        return weights;
    }

    @Override
    public int vocabSize() {
        return weights.config().vocabSize();
    }

    @Override
    public int trainedContextLength() {
        return weights.config().contextLength();
    }

    @Override
    public Session newSession(int contextSize) {
        return new LlamaSession(backendModel, contextSize);
    }

    /** E.g. "llama 1.2B Q4_0 on cpu (2 threads)": the type holding most of the weight bytes is named. */
    @Override
    public String description() {
        Map<GgmlType, Long> bytesByType = new EnumMap<>(GgmlType.class);
        long parameters = 0;
        for (TensorView t : weights.tensors().values()) {
            bytesByType.merge(t.type(), t.data().byteSize(), Long::sum);
            parameters += t.elementCount();
        }
        GgmlType main = bytesByType.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey)
                .orElse(GgmlType.F32);
        return weights.config().architecture() + " " + parameterCount(parameters) + " " + main + " on " + backend.name();
    }

    private static String parameterCount(long n) {
        if (n >= 1_000_000_000L) {
            return String.format(java.util.Locale.ROOT, "%.1fB", n / 1e9);
        }
        if (n >= 1_000_000L) {
            return String.format(java.util.Locale.ROOT, "%.0fM", n / 1e6);
        }
        return String.format(java.util.Locale.ROOT, "%.0fK", n / 1e3);
    }

    @Override
    public void close() {
        backendModel.close();
        if (ownedSource != null) {
            try {
                ownedSource.close();
            } catch (Exception e) {
                throw new ModelException("closing the model file failed: " + e.getMessage(), e);
            }
        }
    }
}
