package io.panllm.runtime.convert;

import io.panllm.gguf.GgufMetadata;
import io.panllm.runtime.model.ModelConfig;
import io.panllm.runtime.model.ModelException;
import io.panllm.tensor.GgmlType;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Chooses each tensor's type for a {@link TargetType}, following llama.cpp's llama-quant.cpp
 * ({@code llama_tensor_get_type}) for the Llama family so that our Q4_K_M is llama.cpp's Q4_K_M:
 * <ul>
 * <li>vectors (norms, biases) stay F32; only {@code *.weight} matrices are quantized;</li>
 * <li>the output matrix (or the token embedding when it is tied to the output) gets Q6_K, or Q8_0
 *     when its rows are not whole 256-blocks, except for Q8_0 files;</li>
 * <li>Q4_K_M / Q5_K_M: attn_v and ffn_down of the layers {@link #useMoreBits} picks get Q6_K;
 *     Q4_K_S: attn_v of the first 4 layers and ffn_down of the first 1/8 get Q5_K; IQ4_NL:
 *     attn_v gets Q5_K when n_head / n_head_kv >= 4, ffn_down of the first 1/8 of layers Q5_K;</li>
 * <li>rows that are not whole blocks fall back as llama.cpp does (Q4_K to Q5_0, Q5_K to Q5_1,
 *     Q6_K to Q8_0, then F16).</li>
 * </ul>
 * The bitsandbytes-style targets (NF4, FP4, INT8) keep the embedding and output in F16, as
 * transformers + bitsandbytes leave them.
 */
public final class QuantPolicy {
    private static final Pattern LAYER = Pattern.compile("^blk\\.(\\d+)\\.");

    private final TargetType target;
    private final int layerCount;
    private final int gqaRatio;
    private final boolean hasOutput;
    private final GgmlType embeddingOverride;
    private final GgmlType outputOverride;

    /**
     * @param embeddingOverride type for token_embd (null: the rule above), like llama-quantize's --token-embedding-type
     * @param outputOverride    type for output.weight (null: the rule above), like --output-tensor-type
     */
    public QuantPolicy(TargetType target, int layerCount, int gqaRatio, boolean hasOutput,
                       GgmlType embeddingOverride, GgmlType outputOverride) {
        this.target = target;
        this.layerCount = layerCount;
        this.gqaRatio = gqaRatio;
        this.hasOutput = hasOutput;
        this.embeddingOverride = embeddingOverride;
        this.outputOverride = outputOverride;
    }

    /**
     * The policy for {@code source}: its layer count and grouped-query ratio from the metadata
     * ({@code ARCH.block_count}, {@code ARCH.attention.head_count[_kv]}) and whether it has its own
     * output matrix (else the embedding is tied to it).
     */
    public static QuantPolicy forSource(ModelSource source, TargetType target, GgmlType embeddingOverride, GgmlType outputOverride) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        source.tensors().forEach(t -> shapes.put(t.name(), t.shape()));
        ModelConfig config;
        try {
            // The checks every command meets when it opens a model: convert writes only what could run.
            config = ModelConfig.fromMetadata(new GgufMetadata(source.metadata(), source.description()), shapes, source.description());
        } catch (ModelException e) {
            throw new ConvertException(e.getMessage(), e);
        }
        return new QuantPolicy(target, config.blockCount(), config.headCount() / config.headCountKv(),
                shapes.containsKey("output.weight"), embeddingOverride, outputOverride);
    }

    public TargetType target() {
        return target;
    }

    /** llama.cpp's use_more_bits: the first and last eighth of the layers and every third in between. */
    static boolean useMoreBits(int layer, int layers) {
        return layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
    }

    /** The type to store this tensor in. */
    public GgmlType typeFor(String name, long[] shape) {
        boolean quantizable = shape.length >= 2 && name.endsWith("weight") && !name.contains("_norm.weight");
        if (!quantizable) {
            return GgmlType.F32;
        }
        boolean isOutput = name.equals("output.weight") || (!hasOutput && name.equals("token_embd.weight"));
        boolean isEmbedding = name.equals("token_embd.weight");
        if (isEmbedding && embeddingOverride != null) {
            return embeddingOverride;
        }
        if (name.equals("output.weight") && outputOverride != null) {
            return outputOverride;
        }
        GgmlType base = target.base;
        if (target.isExtension()) {
            return isOutput || isEmbedding ? GgmlType.F16 : fallback(base, shape[0]);
        }
        if (!base.isQuantized()) {
            return base;
        }
        GgmlType chosen = base;
        if (isOutput) {
            if (shape[0] % base.blockSize != 0) {
                chosen = GgmlType.Q8_0;
            } else if (base != GgmlType.Q8_0) {
                chosen = GgmlType.Q6_K;
            }
        } else if (!isEmbedding) {
            int layer = layerOf(name);
            if (name.contains("attn_v.weight")) {
                chosen = switch (target) {
                    case Q4_K_M, Q5_K_M -> useMoreBits(layer, layerCount) ? GgmlType.Q6_K : base;
                    case Q4_K_S -> layer < 4 ? GgmlType.Q5_K : base;
                    case IQ4_NL -> gqaRatio >= 4 ? GgmlType.Q5_K : base;
                    default -> base;
                };
            } else if (name.contains("ffn_down")) {
                chosen = switch (target) {
                    case Q4_K_M, Q5_K_M -> useMoreBits(layer, layerCount) ? GgmlType.Q6_K : base;
                    case Q4_K_S, IQ4_NL -> layer < layerCount / 8 ? GgmlType.Q5_K : base;
                    default -> base;
                };
            }
        }
        return fallback(chosen, shape[0]);
    }

    /** llama.cpp's tensor_type_fallback for rows that are not whole blocks. */
    static GgmlType fallback(GgmlType type, long rowLength) {
        if (rowLength % type.blockSize == 0) {
            return type;
        }
        GgmlType next = switch (type) {
            case Q2_K, Q3_K -> GgmlType.Q4_0;
            case Q4_K -> GgmlType.Q5_0;
            case Q5_K -> GgmlType.Q5_1;
            case Q6_K -> GgmlType.Q8_0;
            case NF4, FP4 -> GgmlType.IQ4_NL;
            default -> GgmlType.F16;
        };
        return rowLength % next.blockSize == 0 ? next : GgmlType.F16;
    }

    private static int layerOf(String name) {
        Matcher m = LAYER.matcher(name);
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }
}
