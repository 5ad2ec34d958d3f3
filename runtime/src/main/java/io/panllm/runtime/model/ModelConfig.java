package io.panllm.runtime.model;

import io.panllm.gguf.GgufException;
import io.panllm.gguf.GgufFile;
import io.panllm.gguf.GgufMetadata;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The hyper-parameters of a Llama-family decoder.
 *
 * @param architecture       GGUF {@code general.architecture}: llama, mistral or qwen2
 * @param embeddingLength    model width (dim)
 * @param blockCount         number of transformer layers
 * @param feedForwardLength  hidden width of the SwiGLU feed-forward network
 * @param headCount          query heads
 * @param headCountKv        key/value heads (fewer than headCount for grouped-query attention)
 * @param headDim            elements per head (usually embeddingLength / headCount)
 * @param rmsNormEps         epsilon added to the mean square in RMSNorm
 * @param ropeFreqBase       RoPE base (theta)
 * @param ropeDimensionCount leading elements of each head that RoPE rotates (usually headDim)
 * @param ropeLayout         which elements are rotated together
 * @param ropeScaleFactor    linear RoPE scaling: positions are divided by this (1 = none)
 * @param contextLength      context length the model was trained for
 * @param vocabSize          rows of the embedding table and logits per position
 */
public record ModelConfig(
        String architecture,
        int embeddingLength,
        int blockCount,
        int feedForwardLength,
        int headCount,
        int headCountKv,
        int headDim,
        float rmsNormEps,
        float ropeFreqBase,
        int ropeDimensionCount,
        RopeLayout ropeLayout,
        float ropeScaleFactor,
        int contextLength,
        int vocabSize) {

    public ModelConfig {
        positive("embedding_length", embeddingLength);
        positive("block_count", blockCount);
        positive("feed_forward_length", feedForwardLength);
        positive("attention.head_count", headCount);
        positive("attention.head_count_kv", headCountKv);
        positive("head dimension", headDim);
        positive("context_length", contextLength);
        positive("vocab_size", vocabSize);
        try {
            Math.multiplyExact(headCount, headDim);
            Math.multiplyExact(headCountKv, headDim);
        } catch (ArithmeticException e) {
            throw new ModelException("attention.head_count " + headCount + " x head dimension " + headDim + " is too large");
        }
        if (headCount % headCountKv != 0) {
            throw new ModelException("attention.head_count " + headCount + " is not a multiple of attention.head_count_kv "
                    + headCountKv);
        }
        if (ropeDimensionCount <= 0 || ropeDimensionCount > headDim || ropeDimensionCount % 2 != 0) {
            throw new ModelException("rope.dimension_count " + ropeDimensionCount
                    + " must be even and between 2 and the head dimension " + headDim);
        }
        if (!(rmsNormEps > 0) || !(ropeFreqBase > 0) || !(ropeScaleFactor > 0)) {
            throw new ModelException("layer_norm_rms_epsilon (" + rmsNormEps + "), rope.freq_base (" + ropeFreqBase
                    + ") and the rope scale factor (" + ropeScaleFactor + ") must be positive");
        }
    }

    private static void positive(String what, int value) {
        if (value <= 0) {
            throw new ModelException(what + " must be positive, got " + value);
        }
    }

    /**
     * A plain Llama configuration (adjacent-pair RoPE over the whole head, no scaling): what a
     * llama2.c checkpoint or a test model needs.
     */
    public static ModelConfig llama(int dim, int layers, int ffnDim, int heads, int kvHeads, int vocabSize,
            int contextLength, float rmsNormEps, float ropeFreqBase) {
        int headDim = heads > 0 ? dim / heads : 0; // the constructor refuses heads <= 0
        return new ModelConfig("llama", dim, layers, ffnDim, heads, kvHeads, headDim, rmsNormEps, ropeFreqBase, headDim,
                RopeLayout.ADJACENT_PAIRS, 1f, contextLength, vocabSize);
    }

    /** Width of the key and value vectors of one position. */
    public int kvDim() {
        return headCountKv * headDim;
    }

    /** Width of the query vector (headCount x headDim). */
    public int queryDim() {
        return headCount * headDim;
    }

    /** Reads the configuration from GGUF metadata ({arch}.embedding_length and so on), checked against the tensors. */
    public static ModelConfig fromGguf(GgufFile file) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        file.tensors().forEach(t -> shapes.put(t.name(), t.shape()));
        return fromMetadata(file.metadata(), shapes, file.path().toString());
    }

    /**
     * Reads the configuration from GGUF-style metadata and checks it against the tensors' shapes
     * ({@link ModelValidator}): what every command that opens a model (run it, convert it) goes
     * through, so that all of them refuse the same files with the same one-line errors.
     *
     * @param shapes every tensor's shape by its llama.cpp name, in ggml order
     * @param source the file, for the messages
     */
    public static ModelConfig fromMetadata(GgufMetadata meta, Map<String, long[]> shapes, String source) {
        try {
            String arch = meta.getString("general.architecture", null);
            if (arch == null) {
                throw new ModelException("no general.architecture in the metadata; not a model file?");
            }
            RopeLayout layout = switch (arch) {
                case "llama", "mistral" -> RopeLayout.ADJACENT_PAIRS;
                case "qwen2" -> RopeLayout.HALVES;
                default -> throw new ModelException("architecture '" + arch
                        + "' is not supported (panllm runs llama, mistral and qwen2)");
            };
            int dim = required(meta, arch + ".embedding_length");
            int heads = required(meta, arch + ".attention.head_count");
            int headDim = meta.getInt(arch + ".attention.key_length", dim / Math.max(1, heads));
            int valueLength = meta.getInt(arch + ".attention.value_length", headDim);
            if (valueLength != headDim) {
                throw new ModelException("attention.value_length " + valueLength + " differs from key_length "
                        + headDim + "; not supported");
            }
            int vocab = meta.getInt(arch + ".vocab_size", -1);
            if (vocab < 0) {
                vocab = vocabFromTensors(meta, shapes);
            }
            float scale = 1f;
            String scalingType = meta.getString(arch + ".rope.scaling.type", "none");
            switch (scalingType) {
                case "none" -> { }
                case "linear" -> scale = meta.getFloat(arch + ".rope.scaling.factor", 1f);
                default -> throw new ModelException("rope scaling '" + scalingType
                        + "' is not supported (none and linear are; Llama 3 scaling comes as rope_freqs.weight)");
            }
            ModelConfig config = new ModelConfig(arch, dim,
                    required(meta, arch + ".block_count"),
                    required(meta, arch + ".feed_forward_length"),
                    heads,
                    meta.getInt(arch + ".attention.head_count_kv", heads),
                    headDim,
                    meta.getFloat(arch + ".attention.layer_norm_rms_epsilon", 1e-5f),
                    meta.getFloat(arch + ".rope.freq_base", 10000f),
                    meta.getInt(arch + ".rope.dimension_count", headDim),
                    layout,
                    scale,
                    meta.getInt(arch + ".context_length", 2048),
                    vocab);
            ModelValidator.checkTensors(config, shapes);
            return config;
        } catch (GgufException | ModelException e) {
            // GgufMetadata's messages name the file already; ours do not.
            String m = e.getMessage();
            throw new ModelException(m.startsWith(source) ? m : source + ": " + m, e);
        }
    }

    private static int required(GgufMetadata meta, String key) {
        if (!meta.has(key)) {
            throw new ModelException("metadata key " + key + " is missing");
        }
        return meta.getInt(key);
    }

    private static int vocabFromTensors(GgufMetadata meta, Map<String, long[]> shapes) {
        if (meta.has("tokenizer.ggml.tokens")) {
            return meta.getStringArray("tokenizer.ggml.tokens").size();
        }
        long[] embedding = shapes.get(ModelWeights.TOKEN_EMBEDDING);
        if (embedding == null || embedding.length < 2 || embedding[1] > Integer.MAX_VALUE) {
            throw new ModelException("cannot tell the vocabulary size (no vocab_size, tokenizer.ggml.tokens or "
                    + ModelWeights.TOKEN_EMBEDDING + ")");
        }
        return (int) embedding[1];
    }

    @Override
    public String toString() {
        return architecture + " dim " + embeddingLength + ", " + blockCount + " layers, " + headCount + " heads ("
                + headCountKv + " kv, " + headDim + " per head), ffn " + feedForwardLength + ", vocab " + vocabSize
                + ", context " + contextLength;
    }
}
