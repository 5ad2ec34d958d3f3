package io.panllm.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.panllm.gguf.GgufFile;
import io.panllm.tensor.GgmlType;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConvertAndInfoTest {

    @Test
    void randomInitTinyInEveryTypeLoadsAndGenerates(@TempDir Path dir) {
        for (String type : new String[] {"f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q4_k_m", "q6_k", "iq4_nl"}) {
            Path out = dir.resolve("tiny-" + type + ".gguf");
            Cli.Result c = Cli.run("convert", "--random-init", "tiny", "--type", type, "-o", out.toString());
            assertThat(c.exitCode()).as(type + ": " + c.err()).isZero();
            try (GgufFile f = GgufFile.open(out)) {
                assertThat(f.metadata().getBoolean("panllm.random_init", false)).isTrue();
            }
            Cli.Result g = Cli.run("generate", "-m", out.toString(), "-p", "hello", "-n", "5", "--temp", "0");
            assertThat(g.exitCode()).as(type + ": " + g.err()).isZero();
        }
        assertThat(dir.toFile().list()).allMatch(n -> n.endsWith(".gguf"));
    }

    @Test
    void nf4WithoutTheFlagIsWrittenAsIq4Nl(@TempDir Path dir) {
        Path out = dir.resolve("nf4.gguf");
        Cli.Result c = Cli.run("convert", "--random-init", "tiny", "--type", "nf4", "-o", out.toString());
        assertThat(c.exitCode()).as(c.err()).isZero();
        assertThat(c.out()).contains("IQ4_NL");
        try (GgufFile f = GgufFile.open(out)) {
            assertThat(f.tensor("blk.0.attn_q.weight").type()).isEqualTo(GgmlType.IQ4_NL);
        }
        Path ext = dir.resolve("nf4-ext.gguf");
        Cli.Result e = Cli.run("convert", "--random-init", "tiny", "--type", "nf4", "--allow-extension-types", "-o", ext.toString());
        assertThat(e.exitCode()).as(e.err()).isZero();
        try (GgufFile f = GgufFile.open(ext)) {
            assertThat(f.tensor("blk.0.attn_q.weight").type()).isEqualTo(GgmlType.NF4);
            assertThat(f.metadata().getString("panllm.extension_types")).isEqualTo("NF4");
        }
    }

    @Test
    void int8IsBitsandbytesRowWiseWithTheFlagAndQ8_0Without(@TempDir Path dir) throws Exception {
        Path stories = Cli.home("models/stories260K/stories260K_q80.bin");
        Path q8 = dir.resolve("int8-as-q8.gguf");
        Cli.Result c = Cli.run("convert", stories.toString(), "--type", "int8", "-o", q8.toString());
        assertThat(c.exitCode()).as(c.err()).isZero();
        assertThat(c.out()).contains("Q8_0");
        Path int8 = dir.resolve("int8.gguf");
        Cli.Result e = Cli.run("convert", stories.toString(), "--type", "int8", "--allow-extension-types", "-o", int8.toString());
        assertThat(e.exitCode()).as(e.err()).isZero();
        try (GgufFile f = GgufFile.open(int8)) {
            assertThat(f.metadata().getString("panllm.extension_types")).isEqualTo("INT8");
            assertThat(f.tensor("blk.0.ffn_down.weight").type()).isEqualTo(GgmlType.I8);
            assertThat(f.tensor("blk.0.ffn_down.scb").type()).isEqualTo(GgmlType.F32);
            assertThat(f.tensor("blk.0.ffn_down.scb").shape()).containsExactly(64L); // one absmax per output row
            assertThat(f.tensor("token_embd.weight").type()).isEqualTo(GgmlType.F16); // as bitsandbytes leaves it
        }
        // Greedy text from the INT8 file is the story the Q8_0 checkpoint tells (8-bit either way).
        Cli.Result a = Cli.run("generate", "-m", int8.toString(), "-p", "Once upon a time", "-n", "24", "--temp", "0");
        Cli.Result b = Cli.run("generate", "-m", stories.toString(), "-p", "Once upon a time", "-n", "24", "--temp", "0");
        assertThat(a.exitCode()).as(a.err()).isZero();
        assertThat(a.out()).contains("Lily").isEqualTo(b.out());
        // GGUF -> GGUF from INT8 folds the row scales back in: the Q8_0 re-quantization tells the same story.
        Path back = dir.resolve("back.gguf");
        Cli.Result r = Cli.run("convert", int8.toString(), "--type", "q8_0", "-o", back.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        try (GgufFile f = GgufFile.open(back)) {
            assertThat(f.tensors()).noneMatch(t -> t.name().endsWith(".scb"));
        }
        Cli.Result g = Cli.run("generate", "-m", back.toString(), "-p", "Once upon a time", "-n", "24", "--temp", "0");
        assertThat(g.out()).isEqualTo(b.out());
    }

    @Test
    void refusesToOverwriteWithoutForce(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("x.gguf");
        Files.writeString(out, "keep me");
        Cli.Result c = Cli.run("convert", "--random-init", "tiny", "-o", out.toString());
        assertThat(c.exitCode()).isEqualTo(2);
        assertThat(Files.readString(out)).isEqualTo("keep me");
    }

    @Test
    void infoPrintsTheTensorTable() {
        Cli.Result r = Cli.run("info", Cli.data("gguf/llama-2-tiny-random.gguf").toString());
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("GGUF v3").contains("general.architecture").contains("blk.0.ffn_down.weight")
                .contains("F16").contains("32 x 8").contains("513,048 parameters");
    }

    @Test
    void tokenizeWithTheLlama3Tokenizer() {
        Cli.Result r = Cli.run("tokenize", "--vocab", Cli.data("tokenizers/llama3/tokenizer.json").toString(), "--ids", "Hello world");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out().strip()).isEqualTo("[9906, 1917]");
    }
}
