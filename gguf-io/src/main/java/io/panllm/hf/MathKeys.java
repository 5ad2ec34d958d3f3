package io.panllm.hf;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Top-level config.json keys that change a model's math, with the value under which the model is
 * the plain Llama panllm computes. From transformers' LlamaConfig (attention_bias, mlp_bias,
 * hidden_act) and the keys of Llama-like configs that reuse LlamaForCausalLM's layout with
 * something more (Mistral's sliding window, Granite's multipliers, Gemma's soft-capping, Llama 4's
 * chunked attention and qk norm, partial rotary embeddings). Keys that do not change the result
 * (pretraining_tp, attention_dropout, use_cache, initializer_range) are not listed.
 */
final class MathKeys {
    private MathKeys() {
    }

    /** Marks keys whose only neutral value is absent or null. */
    private static final Object ABSENT = new Object();

    private static final Map<String, Object> NEUTRAL = new LinkedHashMap<>();

    static {
        NEUTRAL.put("attention_bias", false);
        NEUTRAL.put("mlp_bias", false);
        NEUTRAL.put("hidden_act", "silu");
        NEUTRAL.put("partial_rotary_factor", 1.0);
        NEUTRAL.put("sliding_window", ABSENT);
        NEUTRAL.put("use_sliding_window", false);
        NEUTRAL.put("attn_logit_softcapping", ABSENT);
        NEUTRAL.put("final_logit_softcapping", ABSENT);
        NEUTRAL.put("query_pre_attn_scalar", ABSENT);
        NEUTRAL.put("embedding_multiplier", 1.0);
        NEUTRAL.put("residual_multiplier", 1.0);
        NEUTRAL.put("attention_multiplier", ABSENT);
        NEUTRAL.put("logits_scaling", 1.0);
        NEUTRAL.put("use_qk_norm", false);
        NEUTRAL.put("attention_chunk_size", ABSENT);
        NEUTRAL.put("no_rope_layers", ABSENT);
    }

    /** Adds a line to {@code unsupported} for every key set to something other than its neutral value. */
    static void check(JsonNode config, List<String> unsupported) {
        NEUTRAL.forEach((key, neutral) -> {
            JsonNode v = config.get(key);
            if (v != null && !v.isNull() && !isNeutral(v, neutral)) {
                unsupported.add(key + " = " + v);
            }
        });
        JsonNode layerTypes = config.get("layer_types");
        if (layerTypes != null && layerTypes.isArray()) {
            for (JsonNode t : layerTypes) {
                if (!"full_attention".equals(t.asText())) {
                    unsupported.add("layer_types has '" + t.asText() + "' layers (panllm implements full attention)");
                    break;
                }
            }
        }
    }

    private static boolean isNeutral(JsonNode v, Object neutral) {
        return switch (neutral) {
            case Boolean b -> v.isBoolean() && v.booleanValue() == b;
            case String s -> v.isTextual() && v.textValue().equals(s);
            case Double d -> v.isNumber() && v.doubleValue() == d;
            default -> false;
        };
    }
}
