package io.panllm.runtime.model;

import io.panllm.gguf.GgufFile;
import io.panllm.runtime.LanguageModel;
import io.panllm.runtime.Session;
import io.panllm.runtime.backend.Backend;
import io.panllm.tensor.GgmlType;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

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

    /**
     * One decode step of several sessions made by this model, through the backend's batched step
     * (each weight read once for all of them where the backend can). Every session is checked
     * (distinct, of this model, room for one more token, token in the vocabulary) before any runs.
     */
    @Override
    public void decodeBatch(List<? extends Session> sessions, int[] tokens, Session.LogitsSink sink) {
        LlamaSession[] batch = checkBatch(sessions, tokens);
        backendModel.decodeBatch(caches(batch), tokens, positions(batch), sink);
        advance(batch);
    }

    @Override
    public int[] decodeBatchGreedy(List<? extends Session> sessions, int[] tokens) {
        LlamaSession[] batch = checkBatch(sessions, tokens);
        int[] next = backendModel.decodeBatchGreedy(caches(batch), tokens, positions(batch));
        advance(batch);
        return next;
    }

    private LlamaSession[] checkBatch(List<? extends Session> sessions, int[] tokens) {
        if (tokens.length != sessions.size()) {
            throw new IllegalArgumentException(sessions.size() + " sessions but " + tokens.length + " tokens");
        }
        if (tokens.length == 0) {
            throw new IllegalArgumentException("no sessions to decode");
        }
        LlamaSession[] batch = new LlamaSession[tokens.length];
        Set<LlamaSession> seen = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        for (int i = 0; i < batch.length; i++) {
            if (!(sessions.get(i) instanceof LlamaSession s) || s.backendModel() != backendModel) {
                throw new IllegalArgumentException("session " + i + " was not made by this model");
            }
            if (!seen.add(s)) {
                throw new IllegalArgumentException("session " + i + " appears twice in the batch");
            }
            s.check(new int[] {tokens[i]});
            batch[i] = s;
        }
        return batch;
    }

    private static Backend.KvCache[] caches(LlamaSession[] batch) {
        Backend.KvCache[] caches = new Backend.KvCache[batch.length];
        for (int i = 0; i < batch.length; i++) {
            caches[i] = batch[i].cache();
        }
        return caches;
    }

    private static int[] positions(LlamaSession[] batch) {
        int[] positions = new int[batch.length];
        for (int i = 0; i < batch.length; i++) {
            positions[i] = batch[i].position();
        }
        return positions;
    }

    private static void advance(LlamaSession[] batch) {
        for (LlamaSession s : batch) {
            s.advance();
        }
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
