package io.panllm.hf;

import static org.assertj.core.api.Assertions.assertThat;

import io.panllm.safetensors.BnbTensors;
import io.panllm.safetensors.SafetensorsCheckpoint;
import io.panllm.safetensors.SafetensorsDtype;
import io.panllm.safetensors.SafetensorsWriter;
import io.panllm.tensor.Bnb4bit;
import io.panllm.tensor.Int8RowWise;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BnbCheckpointWriterTest {
    @TempDir
    Path dir;

    private final float[] embedding = random(8 * 16, 1);
    private final float[] norm = random(16, 2);
    private final float[] upProj = random(24 * 16, 3);

    private static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextDouble(-1, 1);
        }
        return v;
    }

    private Path source() throws Exception {
        Path src = dir.resolve("src");
        Files.createDirectories(src);
        Files.writeString(src.resolve("config.json"), """
                {"architectures": ["LlamaForCausalLM"], "hidden_size": 16, "intermediate_size": 24, "num_hidden_layers": 1,
                 "num_attention_heads": 2, "vocab_size": 8, "torch_dtype": "float32", "tie_word_embeddings": true}""");
        Files.writeString(src.resolve("tokenizer.json"), "{}");
        new SafetensorsWriter()
                .add("model.embed_tokens.weight", SafetensorsDtype.F32, new long[] {8, 16}, SafetensorsWriter.floats(embedding))
                .add("model.layers.0.input_layernorm.weight", SafetensorsDtype.F32, new long[] {16}, SafetensorsWriter.floats(norm))
                .add("model.layers.0.mlp.up_proj.weight", SafetensorsDtype.F32, new long[] {24, 16}, SafetensorsWriter.floats(upProj))
                .write(src.resolve("model.safetensors"));
        return src;
    }

    @Test
    void nf4CheckpointHasTransformersKeysConfigAndSideFiles() throws Exception {
        Path out = dir.resolve("nf4");
        BnbCheckpointWriter.quantize(source(), out, BnbTensors.Kind.NF4, true);

        HfConfig config = HfConfig.read(out);
        assertThat(config.isBnb4bit()).isTrue();
        assertThat(config.quantizationConfig().bnb4bitQuantType()).isEqualTo("nf4");
        assertThat(config.quantizationConfig().bnb4bitUseDoubleQuant()).isTrue();
        assertThat(config.hiddenSize()).isEqualTo(16);
        assertThat(out.resolve("tokenizer.json")).exists();
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(out)) {
            String w = "model.layers.0.mlp.up_proj.weight";
            assertThat(c.names()).containsExactlyInAnyOrder("model.embed_tokens.weight", "model.layers.0.input_layernorm.weight",
                    w, w + ".absmax", w + ".quant_map", w + ".nested_absmax", w + ".nested_quant_map",
                    w + ".quant_state.bitsandbytes__nf4");
            assertThat(c.require("model.embed_tokens.weight").toFloats()).containsExactly(embedding);
            assertThat(c.require("model.layers.0.input_layernorm.weight").toFloats()).containsExactly(norm);
            BnbTensors.Weight up = BnbTensors.weight(c, "model.layers.0.mlp.up_proj");
            assertThat(up.shape()).containsExactly(24, 16);
            Bnb4bit.Quantized reference = Bnb4bit.quantize(Bnb4bit.QuantType.NF4, upProj, 0, upProj.length, 64);
            float[] absmax = Bnb4bit.quantizeAbsmax(reference.absmax()).dequantize();
            assertThat(up.toFloats()).containsExactly(Bnb4bit.dequantize(Bnb4bit.QuantType.NF4,
                    MemorySegment.ofArray(reference.packedCodes()), absmax, 64, upProj.length));
        }
    }

    @Test
    void int8CheckpointRoundTrips() throws Exception {
        Path out = dir.resolve("int8");
        BnbCheckpointWriter.quantize(source(), out, BnbTensors.Kind.INT8, false);
        assertThat(HfConfig.read(out).isBnb8bit()).isTrue();
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(out)) {
            assertThat(c.names()).contains("model.layers.0.mlp.up_proj.SCB", "model.layers.0.mlp.up_proj.weight_format");
            BnbTensors.Weight up = BnbTensors.weight(c, "model.layers.0.mlp.up_proj");
            assertThat(up.kind()).isEqualTo(BnbTensors.Kind.INT8);
            byte[] codes = new byte[upProj.length];
            float[] scb = new float[24];
            Int8RowWise.quantize(upProj, 0, 24, 16, MemorySegment.ofArray(codes), scb);
            float[] expected = new float[upProj.length];
            Int8RowWise.dequantize(MemorySegment.ofArray(codes), scb, 24, 16, expected, 0);
            assertThat(up.toFloats()).containsExactly(expected);
        }
    }
}
