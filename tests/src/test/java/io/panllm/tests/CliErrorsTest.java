package io.panllm.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input ends in one line on stderr and a documented exit code, never a stack trace. */
class CliErrorsTest {

    private static void assertOneLineError(Cli.Result r, int code, String fragment) {
        assertThat(r.exitCode()).isEqualTo(code);
        assertThat(r.err().strip().lines()).hasSize(1);
        assertThat(r.err()).contains(fragment).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void missingModelFile() {
        assertOneLineError(Cli.run("generate", "-m", "/nonexistent/model.gguf", "-p", "hi"), 1, "no such file");
    }

    @Test
    void truncatedGguf(@TempDir Path dir) throws Exception {
        byte[] full = Files.readAllBytes(Cli.data("gguf/llama-2-tiny-random.gguf"));
        Path cut = dir.resolve("cut.gguf");
        Files.write(cut, java.util.Arrays.copyOf(full, full.length / 2));
        assertOneLineError(Cli.run("info", cut.toString()), 1, "cut.gguf");
        assertOneLineError(Cli.run("generate", "-m", cut.toString(), "-p", "hi"), 1, "cut.gguf");
    }

    @Test
    void notAModel(@TempDir Path dir) throws Exception {
        Path text = dir.resolve("notes.txt");
        Files.writeString(text, "hello");
        assertOneLineError(Cli.run("info", text.toString()), 1, "not a model file");
    }

    @Test
    void emptyPromptAndUnknownFlags() {
        assertOneLineError(Cli.run("generate", "-p", ""), 2, "prompt is empty");
        Cli.Result r = Cli.run("generate", "--bogus");
        assertThat(r.exitCode()).isEqualTo(2);
        Cli.Result t = Cli.run("convert", "--random-init", "tiny", "-o", "/tmp/x.gguf", "--type", "q3_z");
        assertThat(t.exitCode()).isEqualTo(2);
        assertThat(t.err()).contains("unknown type 'q3_z'");
    }

    @Test
    void contextOverflowIsAClearError() {
        assertOneLineError(Cli.run("generate", "-p", "Once upon a time there was a cat", "-c", "4"), 2, "context");
    }

    @Test
    void invalidUtf8PromptFile(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.txt");
        Files.write(bad, new byte[] {'h', 'i', ' ', (byte) 0xC3, (byte) 0x28, 'x'});
        assertOneLineError(Cli.run("generate", "-f", bad.toString()), 1, "not valid UTF-8 (bad byte at offset 3)");
    }
}
