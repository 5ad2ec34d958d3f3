package io.panllm.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import io.panllm.tensor.GgmlType;
import org.junit.jupiter.api.Test;

class GgufFileTest {

    @Test
    void readsLlamaTinyRandomWrittenByLlamaCpp() {
        try (GgufFile f = GgufFile.open(TestData.file("gguf/llama-2-tiny-random.gguf"))) {
            assertThat(f.version()).isEqualTo(3);
            GgufMetadata m = f.metadata();
            assertThat(m.getString("general.architecture")).isEqualTo("llama");
            assertThat(m.getInt("llama.embedding_length")).isEqualTo(8);
            assertThat(m.getInt("llama.block_count")).isEqualTo(1);
            assertThat(m.getString("tokenizer.ggml.model")).isEqualTo("llama");
            assertThat(m.getStringArray("tokenizer.ggml.tokens")).hasSize(32000).startsWith("<unk>", "<s>", "</s>");
            assertThat(m.getFloatArray("tokenizer.ggml.scores")).hasSize(32000);
            assertThat(m.getIntArray("tokenizer.ggml.token_type")).hasSize(32000);
            GgufTensorInfo embd = f.tensor("token_embd.weight");
            assertThat(embd).isNotNull();
            assertThat(embd.shape()).containsExactly(8, 32000);
            assertThat(f.tensorData(embd).byteSize()).isEqualTo(embd.type().byteSize(8 * 32000));
            assertThat(f.tensors()).allSatisfy(t -> assertThat(t.type()).isIn(GgmlType.F32, GgmlType.F16));
            assertThat(f.tensors()).extracting(GgufTensorInfo::name).startsWith("token_embd.weight", "blk.0.attn_q.weight")
                    .endsWith("output_norm.weight", "output.weight").hasSize(12);
            assertThat(f.tensor("blk.0.ffn_down.weight").shape()).containsExactly(32, 8);
            assertThat(m.getFloat("llama.attention.layer_norm_rms_epsilon")).isEqualTo(1e-5f);
            assertThat(f.alignment()).isEqualTo(32);
            assertThat(f.dataOffset() % 32).isZero();
        }
    }
}
