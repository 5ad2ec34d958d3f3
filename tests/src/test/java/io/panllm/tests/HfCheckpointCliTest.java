package io.panllm.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.panllm.gguf.GgufFile;
import io.panllm.hf.BnbCheckpointWriter;
import io.panllm.safetensors.BnbTensors;
import io.panllm.safetensors.SafetensorsDtype;
import io.panllm.safetensors.SafetensorsWriter;
import io.panllm.tensor.Bnb4bit;
import io.panllm.tensor.GgmlType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code convert} and {@code info} on Hugging Face checkpoints, safetensors files and llama2.c checkpoints. */
class HfCheckpointCliTest {
    @TempDir
    Path dir;

    private static final int DIM = 32;
    private static final int FFN = 64;
    private static final int VOCAB = 128256;

    /** A one-layer Llama checkpoint with NF4 linear layers, tied embeddings and the Llama 3 tokenizer. */
    private Path tinyNf4Checkpoint() throws Exception {
        Path ckpt = dir.resolve("tiny-nf4");
        Files.createDirectories(ckpt);
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = json.createObjectNode();
        config.putArray("architectures").add("LlamaForCausalLM");
        config.put("hidden_size", DIM).put("intermediate_size", FFN).put("num_hidden_layers", 1)
                .put("num_attention_heads", 2).put("num_key_value_heads", 1).put("rms_norm_eps", 1e-5)
                .put("rope_theta", 500000.0).put("max_position_embeddings", 2048).put("vocab_size", VOCAB)
                .put("tie_word_embeddings", true).put("torch_dtype", "float32");
        config.set("quantization_config", BnbCheckpointWriter.quantizationConfig(BnbTensors.Kind.NF4, true, "float32"));
        json.writeValue(ckpt.resolve("config.json").toFile(), config);

        SplittableRandom random = new SplittableRandom(5);
        SafetensorsWriter out = new SafetensorsWriter().putMetadata("format", "pt");
        out.add("model.embed_tokens.weight", SafetensorsDtype.F32, new long[] {VOCAB, DIM},
                SafetensorsWriter.floats(values(random, VOCAB * DIM)));
        String p = "model.layers.0.";
        out.add(p + "input_layernorm.weight", SafetensorsDtype.F32, new long[] {DIM}, SafetensorsWriter.floats(ones(DIM)));
        linear(out, p + "self_attn.q_proj", DIM, DIM, random);
        linear(out, p + "self_attn.k_proj", DIM / 2, DIM, random);
        linear(out, p + "self_attn.v_proj", DIM / 2, DIM, random);
        linear(out, p + "self_attn.o_proj", DIM, DIM, random);
        out.add(p + "post_attention_layernorm.weight", SafetensorsDtype.F32, new long[] {DIM},
                SafetensorsWriter.floats(ones(DIM)));
        linear(out, p + "mlp.gate_proj", FFN, DIM, random);
        linear(out, p + "mlp.up_proj", FFN, DIM, random);
        linear(out, p + "mlp.down_proj", DIM, FFN, random);
        out.add("model.norm.weight", SafetensorsDtype.F32, new long[] {DIM}, SafetensorsWriter.floats(ones(DIM)));
        out.write(ckpt.resolve("model.safetensors"));
        Path tokenizers = Cli.data("tokenizers/llama3");
        Files.copy(tokenizers.resolve("tokenizer.json"), ckpt.resolve("tokenizer.json"));
        Files.copy(tokenizers.resolve("tokenizer_config.json"), ckpt.resolve("tokenizer_config.json"));
        return ckpt;
    }

    private static void linear(SafetensorsWriter out, String module, int rows, int columns, SplittableRandom random)
            throws java.io.IOException {
        float[] w = values(random, rows * columns);
        BnbTensors.add4bit(out, module, Bnb4bit.QuantType.NF4, new long[] {rows, columns}, Bnb4bit.DEFAULT_BLOCK_SIZE, true,
                "float32", () -> w);
    }

    private static float[] values(SplittableRandom random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextDouble(-0.5, 0.5);
        }
        return v;
    }

    private static float[] ones(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return v;
    }

    @Test
    void nf4CheckpointConvertsToQ8_0AndGenerates() throws Exception {
        Path ckpt = tinyNf4Checkpoint();
        Path gguf = dir.resolve("tiny.gguf");
        Cli.Result c = Cli.run("convert", ckpt.toString(), "--type", "q8_0", "-o", gguf.toString());
        assertThat(c.exitCode()).as(c.err()).isZero();
        assertThat(c.out()).contains("HF checkpoint").contains("bitsandbytes nf4");
        try (GgufFile f = GgufFile.open(gguf)) {
            assertThat(f.tensor("blk.0.attn_q.weight").type()).isEqualTo(GgmlType.Q8_0);
            assertThat(f.metadata().getString("tokenizer.ggml.pre")).isEqualTo("llama-bpe");
        }
        Cli.Result g = Cli.run("generate", "-m", gguf.toString(), "-p", "hello", "-n", "3", "--temp", "0");
        assertThat(g.exitCode()).as(g.err()).isZero();
    }

    @Test
    void infoReadsAnHfDirectoryWithItsConfigAndBitsandbytesWeights() throws Exception {
        Path ckpt = tinyNf4Checkpoint();
        Cli.Result r = Cli.run("info", ckpt.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("safetensors, 1 file").contains("LlamaForCausalLM").contains("num_key_value_heads")
                .contains("bitsandbytes 4-bit nf4 double-quantized")
                .contains("model.layers.0.mlp.down_proj.weight.quant_state.bitsandbytes__nf4")
                .contains("nf4 32 x 64").contains("format");
    }

    @Test
    void infoReadsASafetensorsFile() throws Exception {
        Path file = dir.resolve("x.safetensors");
        new SafetensorsWriter().putMetadata("note", "hello")
                .add("a.weight", SafetensorsDtype.F32, new long[] {2, 3}, SafetensorsWriter.floats(new float[6]))
                .add("b", SafetensorsDtype.BF16, new long[] {2}, SafetensorsWriter.bytes(new byte[4]))
                .write(file);
        Cli.Result r = Cli.run("info", file.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("2 tensors").contains("a.weight").contains("BF16").contains("note")
                .contains("hello");
    }

    @Test
    void infoRefusesACorruptSafetensorsFileInOneLine() throws Exception {
        Path file = dir.resolve("bad.safetensors");
        Files.write(file, new byte[] {(byte) 0xff, 0, 0, 0, 0, 0, 0, 0, '{', '}'});
        Cli.Result r = Cli.run("info", file.toString());
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.err()).contains("header length").hasLineCount(1);
    }

    @Test
    void infoReadsALlama2cCheckpoint() {
        Cli.Result r = Cli.run("info", Cli.data("llama2c/stories260K_q80.bin").toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("llama2.c checkpoint, version 2").contains("n_kv_heads").contains("blk.0.attn_q.weight")
                .contains("int8 (group");
    }

    @Test
    void randomInitTakesATokenizerFromVocab() throws Exception {
        Path out = dir.resolve("tiny.gguf");
        Cli.Result c = Cli.run("convert", "--random-init", "tiny", "--vocab", Cli.data("llama2c/tok512.bin").toString(),
                "-o", out.toString());
        assertThat(c.exitCode()).as(c.err()).isZero();
        try (GgufFile f = GgufFile.open(out)) {
            assertThat(f.metadata().getString("tokenizer.ggml.model")).isEqualTo("llama");
            assertThat(((io.panllm.gguf.GgufArray) f.metadata().get("tokenizer.ggml.tokens").value()).length()).isEqualTo(512);
        }
    }

    /** convert -o DIR writes a Hugging Face checkpoint that converts back to a GGUF that generates. */
    @Test
    void convertWritesAHuggingFaceCheckpointDirectory() throws Exception {
        Path ckpt = tinyNf4Checkpoint();
        Path hf = dir.resolve("exported");
        Cli.Result c = Cli.run("convert", ckpt.toString(), "-o", hf.toString(), "--type", "bf16");
        assertThat(c.exitCode()).as(c.err()).isZero();
        assertThat(c.out()).contains("Hugging Face checkpoint, bf16").contains("wrote");
        assertThat(hf.resolve("config.json")).exists();
        assertThat(hf.resolve("model.safetensors")).exists();
        assertThat(hf.resolve("tokenizer.json")).exists();

        Cli.Result again = Cli.run("convert", ckpt.toString(), "-o", hf.toString(), "--to", "safetensors", "--type", "int8");
        assertThat(again.exitCode()).isNotZero();
        assertThat(again.err()).contains("exists").hasLineCount(1);
        Cli.Result q = Cli.run("convert", ckpt.toString(), "-o", hf.toString(), "--to", "safetensors", "--type", "q4_0", "--force");
        assertThat(q.exitCode()).isNotZero();
        assertThat(q.err()).contains("f32, f16, bf16, nf4, fp4 or int8").hasLineCount(1);
        Cli.Result inside = Cli.run("convert", ckpt.resolve("model.safetensors").toString(), "-o", ckpt.toString(), "--to",
                "safetensors", "--force");
        assertThat(inside.exitCode()).isNotZero();
        assertThat(inside.err()).contains("holds the input").hasLineCount(1);
        assertThat(ckpt.resolve("model.safetensors")).exists();

        Path gguf = dir.resolve("back.gguf");
        Cli.Result back = Cli.run("convert", hf.toString(), "-o", gguf.toString(), "--type", "q8_0");
        assertThat(back.exitCode()).as(back.err()).isZero();
        Cli.Result g = Cli.run("generate", "-m", gguf.toString(), "-p", "hello", "-n", "3", "--temp", "0");
        assertThat(g.exitCode()).as(g.err()).isZero();
    }

    /** A GGUF (SentencePiece vocabulary) to a sharded NF4 checkpoint: the note says what is missing. */
    @Test
    void ggufToShardedNf4Checkpoint() throws Exception {
        Path hf = dir.resolve("llama2-nf4");
        Cli.Result c = Cli.run("convert", Cli.data("gguf/llama-2-tiny-random.gguf").toString(), "-o", hf.toString(),
                "--type", "nf4", "--max-shard-size", "200KB");
        assertThat(c.exitCode()).as(c.err()).isZero();
        assertThat(c.out()).contains("note: no tokenizer files").contains("tokenizer.model");
        assertThat(hf.resolve("model.safetensors.index.json")).exists();
        assertThat(hf.resolve("model-00001-of-")).doesNotExist();
        io.panllm.hf.HfConfig config = io.panllm.hf.HfConfig.read(hf);
        assertThat(config.isBnb4bit()).isTrue();
        assertThat(config.unsupported()).isEmpty();
        try (io.panllm.safetensors.SafetensorsCheckpoint st = io.panllm.safetensors.SafetensorsCheckpoint.open(hf)) {
            assertThat(st.shards()).hasSizeGreaterThan(1);
            assertThat(st.names()).contains("model.layers.0.self_attn.q_proj.weight.quant_state.bitsandbytes__nf4");
        }
    }
}
