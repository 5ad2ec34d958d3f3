package io.panllm.runtime.convert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.panllm.gguf.GgufMetadata;
import io.panllm.gguf.GgufValue;
import io.panllm.tensor.GgmlType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RopeScalingRecoveryTest {
    private static JsonNode recover(float[] factors, double theta, int headDim) {
        SourceTensor freqs = new SourceTensor("rope_freqs.weight", new long[] {factors.length}, GgmlType.F32, null,
                (first, count, dst) -> System.arraycopy(factors, 0, dst, 0, factors.length));
        ModelSource source = new ModelSource() {
            public Map<String, GgufValue> metadata() {
                return Map.of("general.architecture", GgufValue.ofString("llama"));
            }

            public List<SourceTensor> tensors() {
                return List.of(freqs);
            }

            public String description() {
                return "test";
            }
        };
        return RopeScalingRecovery.ropeScaling(source, new GgufMetadata(source.metadata(), "test"), theta, headDim);
    }

    @Test
    void llama31ParametersAreFoundAgain() {
        JsonNode s = recover(Llama3RopeScaling.factors(500000, 128, 8.0, 1.0, 4.0, 8192), 500000, 128);
        assertThat(s.path("rope_type").asText()).isEqualTo("llama3");
        assertThat(s.path("factor").asDouble()).isEqualTo(8.0);
        assertThat(s.path("high_freq_factor").asDouble()).isEqualTo(4.0);
        assertThat(s.path("original_max_position_embeddings").asInt()).isEqualTo(8192);
    }

    @Test
    void otherParametersAreFittedFromTheTransitionBand() {
        JsonNode s = recover(Llama3RopeScaling.factors(500000, 128, 16.0, 1.0, 2.0, 4096), 500000, 128);
        assertThat(s.path("factor").asDouble()).isEqualTo(16.0);
        assertThat(s.path("low_freq_factor").asDouble()).isEqualTo(1.0);
        assertThat(s.path("high_freq_factor").asDouble()).isEqualTo(2.0);
        assertThat(s.path("original_max_position_embeddings").asInt()).isEqualTo(4096);
    }

    @Test
    void factorsNoLlama3SettingGivesAreRefused() {
        float[] odd = Llama3RopeScaling.factors(500000, 128, 8.0, 1.0, 4.0, 8192);
        odd[3] = 1.5f;
        assertThatThrownBy(() -> recover(odd, 500000, 128)).isInstanceOf(ConvertException.class)
                .hasMessageContaining("rope_freqs.weight");
    }
}
