package io.panllm.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfConfigTest {
    @TempDir
    Path dir;

    /** Llama 3.2-1B-Instruct's config.json, trimmed of keys this does not read, plus a bitsandbytes section. */
    private static final String LLAMA_32_1B = """
            {"architectures": ["LlamaForCausalLM"], "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009],
             "head_dim": 64, "hidden_act": "silu", "hidden_size": 2048, "intermediate_size": 8192,
             "max_position_embeddings": 131072, "model_type": "llama", "num_attention_heads": 32,
             "num_hidden_layers": 16, "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
             "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                              "original_max_position_embeddings": 8192, "rope_type": "llama3"},
             "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16", "vocab_size": 128256,
             "quantization_config": {"bnb_4bit_compute_dtype": "bfloat16", "bnb_4bit_quant_type": "nf4",
               "bnb_4bit_use_double_quant": true, "load_in_4bit": true, "load_in_8bit": false, "quant_method": "bitsandbytes"}}
            """;

    @Test
    void readsLlama32Config() throws Exception {
        Files.writeString(dir.resolve("config.json"), LLAMA_32_1B);
        HfConfig c = HfConfig.read(dir);
        assertThat(c.architectures()).containsExactly("LlamaForCausalLM");
        assertThat(c.hiddenSize()).isEqualTo(2048);
        assertThat(c.intermediateSize()).isEqualTo(8192);
        assertThat(c.numHiddenLayers()).isEqualTo(16);
        assertThat(c.numAttentionHeads()).isEqualTo(32);
        assertThat(c.numKeyValueHeads()).isEqualTo(8);
        assertThat(c.headDim()).isEqualTo(64);
        assertThat(c.explicitHeadDim()).isTrue();
        assertThat(c.rmsNormEps()).isEqualTo(1e-5);
        assertThat(c.ropeTheta()).isEqualTo(500000.0);
        assertThat(c.ropeScaling().isLlama3()).isTrue();
        assertThat(c.ropeScaling().factor()).isEqualTo(32.0);
        assertThat(c.ropeScaling().originalMaxPositionEmbeddings()).isEqualTo(8192);
        assertThat(c.maxPositionEmbeddings()).isEqualTo(131072);
        assertThat(c.vocabSize()).isEqualTo(128256);
        assertThat(c.tieWordEmbeddings()).isTrue();
        assertThat(c.bosTokenIds()).containsExactly(128000);
        assertThat(c.eosTokenIds()).containsExactly(128001, 128008, 128009);
        assertThat(c.torchDtype()).isEqualTo("bfloat16");
        assertThat(c.isBitsAndBytes()).isTrue();
        assertThat(c.quantization().bnb4bitQuantType()).isEqualTo("nf4");
        assertThat(c.quantization().bnb4bitUseDoubleQuant()).isTrue();
        assertThat(c.quantization().bnb4bitComputeDtype()).isEqualTo("bfloat16");
    }

    @Test
    void defaultsFollowLlamaConfig() throws Exception {
        Files.writeString(dir.resolve("config.json"), """
                {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 100}""");
        HfConfig c = HfConfig.read(dir.resolve("config.json"));
        assertThat(c.numKeyValueHeads()).isEqualTo(4);
        assertThat(c.headDim()).isEqualTo(16);
        assertThat(c.explicitHeadDim()).isFalse();
        assertThat(c.ropeScaling()).isNull();
        assertThat(c.ropeTheta()).isEqualTo(10000.0);
        assertThat(c.tieWordEmbeddings()).isFalse();
        assertThat(c.bosTokenIds()).isEmpty();
        assertThat(c.isBitsAndBytes()).isFalse();
    }

    @Test
    void badConfigsNameFileAndKey() throws Exception {
        Path f = dir.resolve("config.json");
        Files.writeString(f, "{\"hidden_size\": 64}");
        assertThatThrownBy(() -> HfConfig.read(f)).isInstanceOf(HfCheckpointException.class)
                .hasMessageContaining(f.toString()).hasMessageContaining("missing num_attention_heads");
        Files.writeString(f, "{\"hidden_size\": \"big\", \"num_attention_heads\": 4}");
        assertThatThrownBy(() -> HfConfig.read(f)).hasMessageContaining("hidden_size");
        Files.writeString(f, "{nope");
        assertThatThrownBy(() -> HfConfig.read(f)).isInstanceOf(HfCheckpointException.class).hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> HfConfig.read(dir.resolve("absent"))).isInstanceOf(HfCheckpointException.class);
    }
}
