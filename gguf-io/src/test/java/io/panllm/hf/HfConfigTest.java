package io.panllm.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfConfigTest {
    /** meta-llama/Llama-3.2-1B-Instruct's config.json, with the quantization_config unsloth's bnb-4bit copy adds. */
    static final String LLAMA_32_1B_BNB = """
            {
              "architectures": ["LlamaForCausalLM"],
              "attention_bias": false,
              "attention_dropout": 0.0,
              "bos_token_id": 128000,
              "eos_token_id": [128001, 128008, 128009],
              "head_dim": 64,
              "hidden_act": "silu",
              "hidden_size": 2048,
              "initializer_range": 0.02,
              "intermediate_size": 8192,
              "max_position_embeddings": 131072,
              "mlp_bias": false,
              "model_type": "llama",
              "num_attention_heads": 32,
              "num_hidden_layers": 16,
              "num_key_value_heads": 8,
              "pretraining_tp": 1,
              "quantization_config": {
                "_load_in_4bit": true,
                "_load_in_8bit": false,
                "bnb_4bit_compute_dtype": "bfloat16",
                "bnb_4bit_quant_storage": "uint8",
                "bnb_4bit_quant_type": "nf4",
                "bnb_4bit_use_double_quant": true,
                "llm_int8_enable_fp32_cpu_offload": false,
                "llm_int8_has_fp16_weight": false,
                "llm_int8_skip_modules": null,
                "llm_int8_threshold": 6.0,
                "load_in_4bit": true,
                "load_in_8bit": false,
                "quant_method": "bitsandbytes"
              },
              "rms_norm_eps": 1e-05,
              "rope_scaling": {
                "factor": 32.0,
                "high_freq_factor": 4.0,
                "low_freq_factor": 1.0,
                "original_max_position_embeddings": 8192,
                "rope_type": "llama3"
              },
              "rope_theta": 500000.0,
              "tie_word_embeddings": true,
              "torch_dtype": "bfloat16",
              "transformers_version": "4.45.0.dev0",
              "use_cache": true,
              "vocab_size": 128256
            }
            """;

    @Test
    void llama32WithBitsAndBytes(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("config.json"), LLAMA_32_1B_BNB);
        HfConfig c = HfConfig.read(dir);
        assertThat(c.architectures()).containsExactly("LlamaForCausalLM");
        assertThat(c.modelType()).isEqualTo("llama");
        assertThat(c.hiddenSize()).isEqualTo(2048);
        assertThat(c.intermediateSize()).isEqualTo(8192);
        assertThat(c.numHiddenLayers()).isEqualTo(16);
        assertThat(c.numAttentionHeads()).isEqualTo(32);
        assertThat(c.numKeyValueHeads()).isEqualTo(8);
        assertThat(c.headDim()).isEqualTo(64);
        assertThat(c.rmsNormEps()).isEqualTo(1e-5);
        assertThat(c.ropeTheta()).isEqualTo(500000.0);
        assertThat(c.ropeScaling()).isEqualTo(new HfConfig.RopeScaling("llama3", 32.0, 1.0, 4.0, 8192));
        assertThat(c.ropeScaling().isLlama3()).isTrue();
        assertThat(c.maxPositionEmbeddings()).isEqualTo(131072);
        assertThat(c.vocabSize()).isEqualTo(128256);
        assertThat(c.tieWordEmbeddings()).isTrue();
        assertThat(c.bosTokenIds()).containsExactly(128000);
        assertThat(c.bosTokenId()).isEqualTo(128000);
        assertThat(c.eosTokenIds()).containsExactly(128001, 128008, 128009);
        assertThat(c.torchDtype()).isEqualTo("bfloat16");
        assertThat(c.hiddenAct()).isEqualTo("silu");
        assertThat(c.quantizationConfig()).isEqualTo(
                new HfConfig.QuantizationConfig("bitsandbytes", true, false, "nf4", true, "bfloat16", java.util.List.of()));
        assertThat(c.isBnb4bit()).isTrue();
        assertThat(c.isBnb8bit()).isFalse();
    }

    @Test
    void defaultsOfAnOlderLlamaConfig() {
        HfConfig c = HfConfig.parse("""
                {"architectures": ["LlamaForCausalLM"], "hidden_size": 4096, "intermediate_size": 11008,
                 "num_attention_heads": 32, "num_hidden_layers": 32, "vocab_size": 32000, "bos_token_id": 1,
                 "eos_token_id": 2, "rope_scaling": null, "dtype": "float16",
                 "quantization_config": {"load_in_8bit": true, "llm_int8_skip_modules": ["lm_head"]}}
                """, "llama2");
        assertThat(c.numKeyValueHeads()).isEqualTo(32);
        assertThat(c.headDim()).isEqualTo(128);
        assertThat(c.rmsNormEps()).isEqualTo(1e-6);
        assertThat(c.ropeTheta()).isEqualTo(10000.0);
        assertThat(c.ropeScaling()).isNull();
        assertThat(c.maxPositionEmbeddings()).isEqualTo(2048);
        assertThat(c.tieWordEmbeddings()).isFalse();
        assertThat(c.eosTokenIds()).containsExactly(2);
        assertThat(c.torchDtype()).isEqualTo("float16");
        assertThat(c.isBnb8bit()).isTrue();
        assertThat(c.quantizationConfig().skipModules()).containsExactly("lm_head");
        assertThat(HfConfig.parse("{\"hidden_size\": 8, \"intermediate_size\": 8, \"num_attention_heads\": 2,"
                + " \"num_hidden_layers\": 1, \"vocab_size\": 4}", "tiny").quantizationConfig()).isNull();
    }

    @Test
    void badConfigsNameTheKey() {
        String base = "\"intermediate_size\": 8, \"num_hidden_layers\": 1, \"vocab_size\": 4";
        assertThatThrownBy(() -> HfConfig.parse("{" + base + ", \"num_attention_heads\": 2}", "f"))
                .isInstanceOf(HfConfigException.class).hasMessageContaining("f: missing 'hidden_size'");
        assertThatThrownBy(() -> HfConfig.parse("{" + base + ", \"hidden_size\": \"8\", \"num_attention_heads\": 2}", "f"))
                .isInstanceOf(HfConfigException.class).hasMessageContaining("'hidden_size'");
        assertThatThrownBy(() -> HfConfig.parse("{" + base + ", \"hidden_size\": 8, \"num_attention_heads\": 3}", "f"))
                .isInstanceOf(HfConfigException.class).hasMessageContaining("not a multiple");
        assertThatThrownBy(() -> HfConfig.parse("{" + base + ", \"hidden_size\": 8, \"num_attention_heads\": 4,"
                + " \"num_key_value_heads\": 3}", "f")).isInstanceOf(HfConfigException.class).hasMessageContaining("num_key_value_heads");
        assertThatThrownBy(() -> HfConfig.parse("{" + base + ", \"hidden_size\": 8, \"num_attention_heads\": 2,"
                + " \"eos_token_id\": [1, \"x\"]}", "f")).isInstanceOf(HfConfigException.class).hasMessageContaining("'eos_token_id'");
        assertThatThrownBy(() -> HfConfig.parse("{" + base + ", \"hidden_size\": 8, \"num_attention_heads\": 2,"
                + " \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8}}", "f"))
                .isInstanceOf(HfConfigException.class).hasMessageContaining("rope_scaling").hasMessageContaining("original_max_position_embeddings");
        assertThatThrownBy(() -> HfConfig.parse("{" + base + ", \"hidden_size\": 8, \"num_attention_heads\": 2,"
                + " \"quantization_config\": {\"load_in_4bit\": true, \"bnb_4bit_quant_type\": \"int4\"}}", "f"))
                .isInstanceOf(HfConfigException.class).hasMessageContaining("int4");
        assertThatThrownBy(() -> HfConfig.parse("{\"hidden_size\": ", "f")).isInstanceOf(HfConfigException.class)
                .hasMessageContaining("malformed JSON");
        assertThatThrownBy(() -> HfConfig.parse("[]", "f")).isInstanceOf(HfConfigException.class);
        assertThatThrownBy(() -> HfConfig.read(Path.of("/nonexistent/config.json"))).isInstanceOf(HfConfigException.class)
                .hasMessageContaining("no such file");
    }
}
