package io.panllm.runtime.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.panllm.gguf.GgufMetadata;
import io.panllm.hf.HfConfig;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;

/**
 * The config.json of an exported checkpoint: an HF source's own (less its quantization_config,
 * with the new dtype), else LlamaConfig's keys made from the GGUF metadata the way transformers
 * 4.x saves them (transformers 5 reads this layout too).
 */
record HfConfigJson(ObjectNode config) {

    static HfConfigJson of(ModelSource source, GgufMetadata meta, HfExport.Format format) throws IOException {
        if (source instanceof HfSource hf) {
            JsonNode original = new ObjectMapper().readTree(Files.readString(hf.directory().resolve(HfConfig.FILE_NAME)));
            ObjectNode config = ((ObjectNode) original).deepCopy();
            config.remove("quantization_config");
            config.put(config.has("dtype") && !config.has("torch_dtype") ? "dtype" : "torch_dtype", format.torchDtype);
            return new HfConfigJson(config);
        }
        return new HfConfigJson(fromMetadata(source, meta, format));
    }

    private static ObjectNode fromMetadata(ModelSource source, GgufMetadata meta, HfExport.Format format) {
        String a = "llama.";
        int dim = meta.getInt(a + "embedding_length");
        int heads = meta.getInt(a + "attention.head_count");
        int headDim = meta.getInt(a + "attention.key_length", dim / heads);
        if (meta.getInt(a + "attention.value_length", headDim) != headDim) {
            throw new ConvertException(source.description() + ": attention.value_length differs from key_length;"
                    + " LlamaConfig has one head_dim");
        }
        if (meta.getInt(a + "rope.dimension_count", headDim) != headDim) {
            throw new ConvertException(source.description() + ": rope.dimension_count " + meta.getInt(a + "rope.dimension_count")
                    + " is not the head dimension " + headDim + " (partial rotary embeddings have no LlamaConfig key)");
        }
        boolean tied = source.tensors().stream().noneMatch(t -> t.name().equals("output.weight"));
        int vocab = source.tensors().stream().filter(t -> t.name().equals("token_embd.weight")).findFirst()
                .map(t -> Math.toIntExact(t.rowCount()))
                .orElseThrow(() -> new ConvertException(source.description() + ": no token_embd.weight"));
        double theta = shortest(meta.getFloat(a + "rope.freq_base", 10000f));

        ObjectNode c = JsonNodeFactory.instance.objectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("attention_bias", false);
        c.put("attention_dropout", 0.0);
        if (meta.has("tokenizer.ggml.bos_token_id")) {
            c.put("bos_token_id", meta.getInt("tokenizer.ggml.bos_token_id"));
        }
        if (meta.has("tokenizer.ggml.eos_token_id")) {
            c.put("eos_token_id", meta.getInt("tokenizer.ggml.eos_token_id"));
        }
        c.put("head_dim", headDim);
        c.put("hidden_act", "silu");
        c.put("hidden_size", dim);
        c.put("initializer_range", 0.02);
        c.put("intermediate_size", meta.getInt(a + "feed_forward_length"));
        c.put("max_position_embeddings", meta.getInt(a + "context_length", 2048));
        c.put("mlp_bias", false);
        c.put("model_type", "llama");
        c.put("num_attention_heads", heads);
        c.put("num_hidden_layers", meta.getInt(a + "block_count"));
        c.put("num_key_value_heads", meta.getInt(a + "attention.head_count_kv", heads));
        c.put("pretraining_tp", 1);
        c.put("rms_norm_eps", shortest(meta.getFloat(a + "attention.layer_norm_rms_epsilon", 1e-5f)));
        c.set("rope_scaling", RopeScalingRecovery.ropeScaling(source, meta, theta, headDim));
        c.put("rope_theta", theta);
        c.put("tie_word_embeddings", tied);
        c.put("torch_dtype", format.torchDtype);
        c.put("use_cache", true);
        c.put("vocab_size", vocab);
        return c;
    }

    /** The float32 GGUF value as the decimal Python would print for it (1e-05, not 9.99999974e-06). */
    static double shortest(float value) {
        return new BigDecimal(Float.toString(value)).doubleValue();
    }
}
