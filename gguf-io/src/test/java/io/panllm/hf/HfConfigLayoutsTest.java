package io.panllm.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * config.json as transformers 4.x writes it (top-level rope_theta / rope_scaling, torch_dtype) and
 * as transformers 5 writes the same config (rope_parameters, dtype): both read the same, and rope
 * settings panllm does not implement are refused by name in both.
 */
class HfConfigLayoutsTest {
    private static HfConfig fixture(String version, String name) throws IOException {
        String path = "/hf-config/" + version + "/" + name + ".json";
        try (InputStream in = HfConfigLayoutsTest.class.getResourceAsStream(path)) {
            assertThat(in).as(path).isNotNull();
            return HfConfig.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), path);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-3.2-1b", "llama-2-7b", "llama-2-linear", "llama-2-yarn", "llama-2-dynamic"})
    void transformers5ConfigReadsLikeItsTransformers4Original(String name) throws IOException {
        HfConfig v4 = fixture("v4", name);
        HfConfig v5 = fixture("v5", name);
        assertThat(v5.ropeTheta()).isEqualTo(v4.ropeTheta());
        assertThat(v5.ropeScaling()).isEqualTo(v4.ropeScaling());
        assertThat(v5.headDim()).isEqualTo(v4.headDim());
        assertThat(v5.torchDtype()).isEqualTo(v4.torchDtype());
        // the same refusals, naming the key of each layout
        assertThat(v5.unsupported()).isEqualTo(v4.unsupported().stream()
                .map(u -> u.replace("rope_scaling.", "rope_parameters.")).toList());
        assertThat(v5).usingRecursiveComparison().ignoringFields("unsupported")
                .withEqualsForType(Double::equals, Double.class).isEqualTo(v4);
    }

    @Test
    void llama32RopeComesFromRopeParameters() throws IOException {
        HfConfig c = fixture("v5", "llama-3.2-1b");
        assertThat(c.ropeTheta()).isEqualTo(500000.0);
        assertThat(c.ropeScaling()).isEqualTo(new HfConfig.RopeScaling("llama3", 32.0, 1.0, 4.0, 8192));
        assertThat(c.torchDtype()).isEqualTo("bfloat16");
        assertThat(c.unsupported()).isEmpty();
        assertThat(c.requireSupported("x")).isSameAs(c);
    }

    @Test
    void llama2DefaultAndLinear() throws IOException {
        HfConfig plain = fixture("v5", "llama-2-7b");
        assertThat(plain.ropeTheta()).isEqualTo(10000.0);
        assertThat(plain.ropeScaling()).isNull();
        assertThat(fixture("v4", "llama-2-7b").ropeScaling()).isNull();
        HfConfig linear = fixture("v5", "llama-2-linear");
        assertThat(linear.ropeScaling().type()).isEqualTo("linear");
        assertThat(linear.ropeScaling().factor()).isEqualTo(4.0);
        assertThat(linear.unsupported()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"v4", "v5"})
    void unimplementedRopeTypesAreRefusedByName(String version) throws IOException {
        for (String name : new String[] {"llama-2-yarn", "llama-2-dynamic"}) {
            HfConfig c = fixture(version, name);
            String type = name.substring("llama-2-".length());
            assertThat(c.unsupported()).singleElement().asString().contains("rope_type '" + type + "'");
            assertThatThrownBy(() -> c.requireSupported("dir/config.json")).isInstanceOf(HfConfigException.class)
                    .hasMessageContaining("dir/config.json").hasMessageContaining(type)
                    .hasMessageContaining(version.equals("v4") ? "rope_scaling" : "rope_parameters");
        }
    }

    private static final String BASE = "\"hidden_size\": 8, \"intermediate_size\": 8, \"num_hidden_layers\": 1,"
            + " \"num_attention_heads\": 2, \"vocab_size\": 4";

    private static HfConfig parse(String extra) {
        return HfConfig.parse("{" + BASE + ", " + extra + "}", "c");
    }

    @Test
    void keysThatChangeTheMathAreListedByName() {
        assertThat(parse("\"attention_bias\": true").unsupported()).containsExactly("attention_bias = true");
        assertThat(parse("\"mlp_bias\": true").unsupported()).containsExactly("mlp_bias = true");
        assertThat(parse("\"hidden_act\": \"gelu\"").unsupported()).containsExactly("hidden_act = \"gelu\"");
        assertThat(parse("\"sliding_window\": 4096").unsupported()).containsExactly("sliding_window = 4096");
        assertThat(parse("\"partial_rotary_factor\": 0.5").unsupported()).containsExactly("partial_rotary_factor = 0.5");
        assertThat(parse("\"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 1e4, \"partial_rotary_factor\": 0.5}")
                .unsupported()).singleElement().asString().contains("rope_parameters.partial_rotary_factor");
        assertThat(parse("\"rope_parameters\": {\"rope_type\": \"llama3\", \"rope_theta\": 1e4, \"factor\": 8,"
                + " \"low_freq_factor\": 1, \"high_freq_factor\": 4, \"original_max_position_embeddings\": 64,"
                + " \"attention_factor\": 2}").unsupported()).singleElement().asString().contains("rope_parameters.attention_factor");
        assertThat(parse("\"rope_parameters\": {\"full_attention\": {\"rope_type\": \"default\"},"
                + " \"sliding_attention\": {\"rope_type\": \"default\"}}").unsupported()).singleElement().asString()
                .contains("per layer type");
        assertThat(parse("\"rope_scaling\": {\"type\": \"su\", \"long_factor\": [1], \"short_factor\": [1]}").unsupported())
                .singleElement().asString().contains("rope_type 'su'");
        assertThat(parse("\"layer_types\": [\"full_attention\", \"sliding_attention\"]").unsupported()).hasSize(1);
        assertThat(parse("\"quantization_config\": {\"quant_method\": \"gptq\", \"bits\": 4}").unsupported())
                .singleElement().asString().contains("gptq");
        // neutral values of the same keys are the plain model
        assertThat(parse("\"attention_bias\": false, \"mlp_bias\": false, \"hidden_act\": \"silu\", \"sliding_window\": null,"
                + " \"pretraining_tp\": 2, \"layer_types\": [\"full_attention\"], \"partial_rotary_factor\": 1.0")
                .unsupported()).isEmpty();
    }

    @Test
    void disagreeingLayoutsAreAnError() {
        assertThatThrownBy(() -> parse("\"rope_theta\": 10000, \"rope_parameters\": {\"rope_type\": \"default\","
                + " \"rope_theta\": 500000}")).isInstanceOf(HfConfigException.class).hasMessageContaining("rope_theta");
        assertThatThrownBy(() -> parse("\"rope_scaling\": {\"rope_type\": \"linear\", \"factor\": 2},"
                + " \"rope_parameters\": {\"rope_type\": \"linear\", \"factor\": 4, \"rope_theta\": 10000}"))
                .isInstanceOf(HfConfigException.class).hasMessageContaining("disagree");
        assertThatThrownBy(() -> parse("\"rope_scaling\": {\"rope_type\": \"linear\", \"type\": \"dynamic\", \"factor\": 2}"))
                .isInstanceOf(HfConfigException.class).hasMessageContaining("differ");
        assertThatThrownBy(() -> parse("\"rope_parameters\": {\"rope_type\": \"linear\", \"rope_theta\": 10000}"))
                .isInstanceOf(HfConfigException.class).hasMessageContaining("missing 'factor'");
        // the same settings in both layouts are fine (a config edited by hand, or half-migrated)
        assertThat(parse("\"rope_theta\": 500000, \"rope_scaling\": {\"rope_type\": \"linear\", \"factor\": 2},"
                + " \"rope_parameters\": {\"rope_type\": \"linear\", \"factor\": 2, \"rope_theta\": 500000}").ropeScaling().factor())
                .isEqualTo(2.0);
    }

    @Test
    void bitsandbytesFlagsAreReadFromEitherSpelling() {
        HfConfig c = parse("\"dtype\": \"bfloat16\", \"quantization_config\": {\"_load_in_4bit\": true, \"quant_method\": \"bitsandbytes\","
                + " \"bnb_4bit_quant_type\": \"nf4\", \"bnb_4bit_quant_storage\": \"uint8\"}");
        assertThat(c.isBnb4bit()).isTrue();
        assertThat(c.torchDtype()).isEqualTo("bfloat16");
        assertThat(parse("\"quantization_config\": {\"_load_in_8bit\": true, \"quant_method\": \"bitsandbytes\"}").isBnb8bit())
                .isTrue();
        assertThat(parse("\"quantization_config\": {\"load_in_4bit\": true, \"bnb_4bit_quant_storage\": \"bfloat16\"}")
                .unsupported()).singleElement().asString().contains("bnb_4bit_quant_storage");
    }
}
