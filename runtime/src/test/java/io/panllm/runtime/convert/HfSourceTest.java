package io.panllm.runtime.convert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.panllm.gguf.GgufFile;
import io.panllm.gguf.GgufTensorInfo;
import io.panllm.hf.BnbCheckpointWriter;
import io.panllm.runtime.Argmax;
import io.panllm.runtime.Session;
import io.panllm.runtime.cpu.CpuBackend;
import io.panllm.runtime.model.LlamaModel;
import io.panllm.safetensors.BnbTensors;
import io.panllm.safetensors.SafetensorsCheckpoint;
import io.panllm.safetensors.SafetensorsDtype;
import io.panllm.safetensors.SafetensorsWriter;
import io.panllm.tensor.GgmlType;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class HfSourceTest {
    @TempDir
    Path dir;

    private static final int[] TOKENS = {128000, 9906, 1917, 0, 127999, 42, 3923, 13};

    private static Path convert(Path checkpoint, TargetType target, Path output) throws Exception {
        try (HfSource source = new HfSource(checkpoint)) {
            boolean hasOutput = source.tensors().stream().anyMatch(t -> t.name().equals("output.weight"));
            QuantPolicy policy = new QuantPolicy(target, TinyHfCheckpoint.LAYERS,
                    TinyHfCheckpoint.HEADS / TinyHfCheckpoint.KV_HEADS, hasOutput, null, null);
            Converter.convert(source, policy, output, null);
        }
        return output;
    }

    private static List<float[]> runtimeLogits(Path gguf) {
        List<float[]> logits = new ArrayList<>();
        try (CpuBackend backend = new CpuBackend(2);
             LlamaModel model = LlamaModel.open(gguf, backend);
             Session session = model.newSession(32)) {
            session.forward(TOKENS, (index, values) -> logits.add(values.clone()));
        }
        return logits;
    }

    /** max |a - b| over max |b|, over every position. */
    private static double relativeMaxError(List<float[]> actual, List<double[]> expected) {
        double maxDiff = 0;
        double maxRef = 0;
        for (int p = 0; p < expected.size(); p++) {
            for (int i = 0; i < expected.get(p).length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(actual.get(p)[i] - expected.get(p)[i]));
                maxRef = Math.max(maxRef, Math.abs(expected.get(p)[i]));
            }
        }
        return maxDiff / maxRef;
    }

    /** ||a - b|| / ||b|| over every position. */
    private static double relativeL2Error(List<float[]> actual, List<double[]> expected) {
        double diff = 0;
        double norm = 0;
        for (int p = 0; p < expected.size(); p++) {
            for (int i = 0; i < expected.get(p).length; i++) {
                double d = actual.get(p)[i] - expected.get(p)[i];
                diff += d * d;
                norm += expected.get(p)[i] * expected.get(p)[i];
            }
        }
        return Math.sqrt(diff / norm);
    }

    /** The double reference's argmax (Argmax.of takes the runtime's floats). */
    private static int argmax(double[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    @Test
    void bf16CheckpointConvertsToAGgufWhoseLogitsMatchHfForwardPass() throws Exception {
        TinyHfCheckpoint hf = new TinyHfCheckpoint(7, false);
        Path checkpoint = hf.write(dir.resolve("tiny-llama"));
        Path gguf = convert(checkpoint, TargetType.F32, dir.resolve("tiny-f32.gguf"));

        try (GgufFile f = GgufFile.open(gguf)) {
            var m = f.metadata();
            assertThat(m.getString("general.architecture")).isEqualTo("llama");
            assertThat(m.getString("general.name")).isEqualTo("tiny-llama");
            assertThat(m.getLong("llama.context_length")).isEqualTo(131072);
            assertThat(m.getLong("llama.embedding_length")).isEqualTo(32);
            assertThat(m.getLong("llama.block_count")).isEqualTo(2);
            assertThat(m.getLong("llama.feed_forward_length")).isEqualTo(64);
            assertThat(m.getLong("llama.rope.dimension_count")).isEqualTo(8);
            assertThat(m.getLong("llama.attention.head_count")).isEqualTo(4);
            assertThat(m.getLong("llama.attention.head_count_kv")).isEqualTo(2);
            assertThat(m.getLong("llama.vocab_size")).isEqualTo(128256);
            assertThat(m.get("llama.rope.freq_base").value()).isEqualTo(500000f);
            assertThat(m.get("llama.attention.layer_norm_rms_epsilon").value()).isEqualTo(1e-5f);
            assertThat(m.getString("tokenizer.ggml.model")).isEqualTo("gpt2");
            assertThat(m.getString("tokenizer.chat_template")).contains("start_header_id");
            assertThat(m.getLong("tokenizer.ggml.bos_token_id")).isEqualTo(128000);
            assertThat(f.tensors().stream().map(GgufTensorInfo::name).collect(Collectors.toList()))
                    .contains("token_embd.weight", "rope_freqs.weight", "blk.1.attn_q.weight", "blk.1.ffn_down.weight",
                            "output_norm.weight", "output.weight")
                    .hasSize(1 + 1 + 2 * 9 + 2);
            assertThat(f.tensor("blk.0.attn_k.weight").shape()).containsExactly(32, 16);
            assertThat(f.tensor("blk.0.attn_q.weight").type()).isEqualTo(GgmlType.F32);
        }

        List<double[]> expected = new HfReferenceForward(hf.weights::get).logits(TOKENS);
        List<float[]> actual = runtimeLogits(gguf);
        double error = relativeMaxError(actual, expected);
        System.out.printf("bf16 checkpoint -> f32 GGUF: max logit error %.3g of the largest logit%n", error);
        assertThat(error).isLessThan(1e-4);
        for (int p = 0; p < TOKENS.length; p++) {
            assertThat(Argmax.of(actual.get(p))).isEqualTo(argmax(expected.get(p)));
        }
    }

    @Test
    void bf16TargetCopiesUnpermutedMatricesByteForByte() throws Exception {
        Path checkpoint = new TinyHfCheckpoint(8, true).write(dir.resolve("ckpt"));
        Path gguf = convert(checkpoint, TargetType.BF16, dir.resolve("bf16.gguf"));
        try (GgufFile f = GgufFile.open(gguf); SafetensorsCheckpoint st = SafetensorsCheckpoint.open(checkpoint)) {
            assertThat(f.tensors().stream().map(GgufTensorInfo::name)).doesNotContain("output.weight");
            assertThat(f.tensor("blk.0.ffn_up.weight").type()).isEqualTo(GgmlType.BF16);
            byte[] inGguf = f.tensorData(f.tensor("blk.0.ffn_up.weight")).toArray(ValueLayout.JAVA_BYTE);
            byte[] inHf = st.require("model.layers.0.mlp.up_proj.weight").data().toArray(ValueLayout.JAVA_BYTE);
            assertThat(inGguf).isEqualTo(inHf);
            byte[] q = f.tensorData(f.tensor("blk.0.attn_q.weight")).toArray(ValueLayout.JAVA_BYTE);
            byte[] hfQ = st.require("model.layers.0.self_attn.q_proj.weight").data().toArray(ValueLayout.JAVA_BYTE);
            assertThat(q).isNotEqualTo(hfQ); // permuted
        }
    }

    @ParameterizedTest
    @EnumSource(value = BnbTensors.Kind.class, names = {"NF4", "FP4", "INT8"})
    void bitsandbytesCheckpointConvertsAndRunsCloseToBf16(BnbTensors.Kind kind) throws Exception {
        TinyHfCheckpoint hf = new TinyHfCheckpoint(9, true);
        Path checkpoint = dir.resolve("tiny-" + kind);
        BnbCheckpointWriter.quantize(hf.write(dir.resolve("tiny-bf16")), checkpoint, kind, true);
        Path gguf = convert(checkpoint, TargetType.F32, dir.resolve("quantized-f32.gguf"));
        List<float[]> actual = runtimeLogits(gguf);

        // The same forward pass over the weights as bitsandbytes would dequantize them.
        Map<String, float[]> dequantized = new HashMap<>(hf.weights);
        try (SafetensorsCheckpoint st = SafetensorsCheckpoint.open(checkpoint)) {
            for (String name : hf.weights.keySet()) {
                if (TinyHfCheckpoint.isQuantizable(name)) {
                    BnbTensors.Weight w = BnbTensors.weight(st, name.substring(0, name.length() - ".weight".length()));
                    assertThat(w.kind()).isEqualTo(kind);
                    dequantized.put(name, w.toFloats());
                }
            }
        }
        double exact = relativeMaxError(actual, new HfReferenceForward(dequantized::get).logits(TOKENS));
        double versusBf16 = relativeL2Error(actual, new HfReferenceForward(hf.weights::get).logits(TOKENS));
        System.out.printf("%s checkpoint -> f32 GGUF: max logit error %.3g vs its own dequantized weights;"
                + " relative L2 error %.3g vs the bf16 weights%n", kind, exact, versusBf16);
        assertThat(exact).isLessThan(1e-4);
        assertThat(versusBf16).isLessThan(kind == BnbTensors.Kind.FP4 ? 0.3 : 0.2).isGreaterThan(1e-4); // close, but quantized
    }

    /**
     * NF4 weights re-quantized to panllm's NF4 extension keep their codes: the dequantized values
     * give back the same block absmax (the largest element decodes to exactly +-absmax), so only
     * the absmax's rounding to fp16 differs. ffn_down has rows of 64, a whole NF4 block.
     */
    @Test
    void nf4WeightsKeepTheirCodesInTheNf4Extension() throws Exception {
        TinyHfCheckpoint hf = new TinyHfCheckpoint(13, true);
        Path checkpoint = dir.resolve("nf4");
        BnbCheckpointWriter.quantize(hf.write(dir.resolve("bf16")), checkpoint, BnbTensors.Kind.NF4, false);
        Path gguf = convert(checkpoint, TargetType.NF4, dir.resolve("nf4-ext.gguf"));
        try (GgufFile f = GgufFile.open(gguf); SafetensorsCheckpoint st = SafetensorsCheckpoint.open(checkpoint)) {
            GgufTensorInfo down = f.tensor("blk.1.ffn_down.weight");
            assertThat(down.type()).isEqualTo(GgmlType.NF4);
            float[] inGguf = GgmlType.NF4.codec().dequantize(f.tensorData(down), (int) down.elementCount());
            float[] inBnb = BnbTensors.weight(st, "model.layers.1.mlp.down_proj").toFloats();
            for (int i = 0; i < inBnb.length; i++) {
                assertThat(inGguf[i]).as("element %d", i).isCloseTo(inBnb[i], org.assertj.core.data.Offset.offset(
                        Math.abs(inBnb[i]) * 0x1p-10f + 1e-12f));
            }
        }
    }

    @Test
    void shardedCheckpointConvertsToTheSameFileAsASingleOne() throws Exception {
        TinyHfCheckpoint hf = new TinyHfCheckpoint(12, false);
        Path single = hf.write(dir.resolve("single").resolve("model"));
        Path sharded = dir.resolve("sharded").resolve("model");
        Files.createDirectories(sharded);
        for (String side : new String[] {"config.json", "tokenizer.json", "tokenizer_config.json"}) {
            Files.copy(single.resolve(side), sharded.resolve(side));
        }
        StringBuilder weightMap = new StringBuilder();
        try (SafetensorsCheckpoint st = SafetensorsCheckpoint.open(single)) {
            SafetensorsWriter first = new SafetensorsWriter();
            SafetensorsWriter second = new SafetensorsWriter();
            for (String name : st.names()) {
                boolean inFirst = name.contains("layers.0.") || name.startsWith("model.embed");
                (inFirst ? first : second).add(st.require(name));
                String shard = inFirst ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
                weightMap.append(weightMap.isEmpty() ? "" : ", ")
                        .append('"').append(name).append("\": \"").append(shard).append('"');
            }
            first.write(sharded.resolve("model-00001-of-00002.safetensors"));
            second.write(sharded.resolve("model-00002-of-00002.safetensors"));
        }
        Files.writeString(sharded.resolve("model.safetensors.index.json"), "{\"weight_map\": {" + weightMap + "}}");
        byte[] fromSingle = Files.readAllBytes(convert(single, TargetType.Q8_0, dir.resolve("single.gguf")));
        byte[] fromShards = Files.readAllBytes(convert(sharded, TargetType.Q8_0, dir.resolve("sharded.gguf")));
        assertThat(fromShards).isEqualTo(fromSingle);
    }

    @Test
    void permutationMatchesLlamaCppReshapeSwapaxes() {
        // LlamaModel.permute for one head of 8 rows: reshape(1, 2, 4, cols).swapaxes(1, 2) gives rows 0 4 1 5 2 6 3 7.
        long[] hfRows = new long[16];
        for (int r = 0; r < 16; r++) {
            hfRows[r] = HfSource.hfRowOf(r, 8);
        }
        assertThat(hfRows).containsExactly(0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15);
    }

    @Test
    void checkpointsThatAreNotPlainLlamaAreRefusedWithTheReason() throws Exception {
        Path checkpoint = new TinyHfCheckpoint(10, true).write(dir.resolve("c"));
        Files.delete(checkpoint.resolve("tokenizer.json"));
        assertThatThrownBy(() -> new HfSource(checkpoint)).isInstanceOf(ConvertException.class)
                .hasMessageContaining("no tokenizer.json");

        Path extra = new TinyHfCheckpoint(11, true).write(dir.resolve("extra"));
        try (SafetensorsCheckpoint st = SafetensorsCheckpoint.open(extra)) {
            SafetensorsWriter w = new SafetensorsWriter();
            st.names().forEach(name -> w.add(st.require(name)));
            w.add("vision_tower.patch.weight", SafetensorsDtype.F32, new long[] {2}, SafetensorsWriter.floats(new float[2]));
            w.write(extra.resolve("model2.safetensors"));
        }
        Files.move(extra.resolve("model2.safetensors"), extra.resolve("model.safetensors"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThatThrownBy(() -> new HfSource(extra)).isInstanceOf(ConvertException.class)
                .hasMessageContaining("vision_tower.patch.weight");

        Path config = dir.resolve("mistral");
        Files.createDirectories(config);
        Files.writeString(config.resolve("config.json"), """
                {"architectures": ["Qwen2ForCausalLM"], "hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 1,
                 "num_attention_heads": 2, "vocab_size": 10}""");
        assertThatThrownBy(() -> new HfSource(config)).isInstanceOf(ConvertException.class)
                .hasMessageContaining("Qwen2ForCausalLM");
    }

    /**
     * Rewrites a checkpoint's config.json the way transformers 5 saves it: rope_theta and
     * rope_scaling move into rope_parameters (with rope_type "default" when there was no
     * scaling), torch_dtype becomes dtype.
     */
    private static void toTransformers5Layout(Path checkpoint) throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        var config = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(checkpoint.resolve("config.json").toFile());
        var rope = json.createObjectNode();
        var scaling = config.remove("rope_scaling");
        if (scaling != null && scaling.isObject()) {
            rope.setAll((com.fasterxml.jackson.databind.node.ObjectNode) scaling);
        } else {
            rope.put("rope_type", "default");
        }
        var theta = config.remove("rope_theta");
        rope.put("rope_theta", theta == null ? 10000.0 : theta.doubleValue());
        config.set("rope_parameters", rope);
        config.set("dtype", config.remove("torch_dtype"));
        json.writerWithDefaultPrettyPrinter().writeValue(checkpoint.resolve("config.json").toFile(), config);
    }

    private static void editConfig(Path checkpoint, java.util.function.Consumer<com.fasterxml.jackson.databind.node.ObjectNode> edit)
            throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        var config = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(checkpoint.resolve("config.json").toFile());
        edit.accept(config);
        json.writerWithDefaultPrettyPrinter().writeValue(checkpoint.resolve("config.json").toFile(), config);
    }

    /** The rope settings of Llama 3 (llama3 scaling), Llama 2 (none, no rope_theta key) and a linear-scaled Llama 2. */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"llama3", "default", "linear"})
    void transformers5ConfigConvertsToTheSameGgufAsTransformers4(String rope) throws Exception {
        TinyHfCheckpoint hf = new TinyHfCheckpoint(21, true);
        Path v4 = hf.write(dir.resolve("v4").resolve("model"));
        Path v5 = hf.write(dir.resolve("v5").resolve("model"));
        for (Path checkpoint : List.of(v4, v5)) {
            editConfig(checkpoint, c -> {
                switch (rope) {
                    case "default" -> {
                        c.remove("rope_scaling");
                        c.remove("rope_theta");
                    }
                    case "linear" -> c.putObject("rope_scaling").put("factor", 4.0).put("rope_type", "linear").put("type", "linear");
                    default -> { }
                }
            });
        }
        toTransformers5Layout(v5);
        assertThat(Files.readString(v5.resolve("config.json"))).contains("rope_parameters").doesNotContain("rope_scaling").doesNotContain("torch_dtype");
        byte[] fromV4 = Files.readAllBytes(convert(v4, TargetType.F32, dir.resolve("v4.gguf")));
        byte[] fromV5 = Files.readAllBytes(convert(v5, TargetType.F32, dir.resolve("v5.gguf")));
        assertThat(fromV5).isEqualTo(fromV4);
        try (GgufFile f = GgufFile.open(dir.resolve("v5.gguf"))) {
            var m = f.metadata();
            float theta = rope.equals("default") ? 10000f : 500000f;
            assertThat(m.get("llama.rope.freq_base").value()).isEqualTo(theta);
            boolean hasFreqs = f.tensors().stream().anyMatch(t -> t.name().equals("rope_freqs.weight"));
            assertThat(hasFreqs).isEqualTo(rope.equals("llama3"));
            if (hasFreqs) {
                float[] expected = Llama3RopeScaling.factors(500000.0, TinyHfCheckpoint.HEAD_DIM, 32.0, 1.0, 4.0, 8192);
                float[] stored = GgmlType.F32.codec().dequantize(f.tensorData(f.tensor("rope_freqs.weight")), expected.length);
                assertThat(stored).containsExactly(expected);
            }
            assertThat(m.getString("llama.rope.scaling.type", "none")).isEqualTo(rope.equals("linear") ? "linear" : "none");
            if (rope.equals("linear")) {
                assertThat(m.get("llama.rope.scaling.factor").value()).isEqualTo(4f);
            }
        }
    }

    @Test
    void ropeSettingsPanllmDoesNotComputeAreRefusedByKey() throws Exception {
        Path yarn = new TinyHfCheckpoint(22, true).write(dir.resolve("yarn"));
        editConfig(yarn, c -> c.putObject("rope_scaling").put("factor", 4.0).put("original_max_position_embeddings", 4096)
                .put("rope_type", "yarn"));
        toTransformers5Layout(yarn);
        assertThatThrownBy(() -> new HfSource(yarn)).isInstanceOf(ConvertException.class)
                .hasMessageContaining("config.json").hasMessageContaining("rope_parameters.rope_type 'yarn'");
        Path bias = new TinyHfCheckpoint(23, true).write(dir.resolve("bias"));
        editConfig(bias, c -> c.put("attention_bias", true));
        assertThatThrownBy(() -> new HfSource(bias)).isInstanceOf(ConvertException.class)
                .hasMessageContaining("attention_bias = true");
    }
}
