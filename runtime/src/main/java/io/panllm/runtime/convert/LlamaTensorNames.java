package io.panllm.runtime.convert;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * llama.cpp's tensor names and the Hugging Face names of the same Llama tensors: the one table
 * HfSource reads checkpoints by and HfExport writes them by.
 */
final class LlamaTensorNames {
    private LlamaTensorNames() {
    }

    private static final Map<String, String> GLOBAL = Map.of(
            "token_embd.weight", "model.embed_tokens.weight",
            "output_norm.weight", "model.norm.weight",
            "output.weight", "lm_head.weight");

    private static final Map<String, String> LAYER = Map.of(
            "attn_norm.weight", "input_layernorm.weight",
            "attn_q.weight", "self_attn.q_proj.weight",
            "attn_k.weight", "self_attn.k_proj.weight",
            "attn_v.weight", "self_attn.v_proj.weight",
            "attn_output.weight", "self_attn.o_proj.weight",
            "ffn_norm.weight", "post_attention_layernorm.weight",
            "ffn_gate.weight", "mlp.gate_proj.weight",
            "ffn_up.weight", "mlp.up_proj.weight",
            "ffn_down.weight", "mlp.down_proj.weight");

    private static final Pattern BLOCK = Pattern.compile("blk\\.(\\d+)\\.(.+)");

    /** The HF name of a llama.cpp tensor name, or a ConvertException for a tensor a Llama checkpoint has no place for. */
    static String hfName(String ggufName) {
        String global = GLOBAL.get(ggufName);
        if (global != null) {
            return global;
        }
        Matcher m = BLOCK.matcher(ggufName);
        if (m.matches() && LAYER.containsKey(m.group(2))) {
            return "model.layers." + m.group(1) + "." + LAYER.get(m.group(2));
        }
        throw new ConvertException("tensor '" + ggufName + "' has no place in a Hugging Face Llama checkpoint");
    }
}
