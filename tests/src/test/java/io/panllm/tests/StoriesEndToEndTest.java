package io.panllm.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trained stories260K model, end to end: run directly from its llama2.c file and after
 * conversion to GGUF, greedy decoding must tell karpathy's published story.
 */
class StoriesEndToEndTest {
    /** The start of llama2.c's greedy output for "Once upon a time" with stories260K. */
    static final String LILY = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
            + "One day, she saw a big, red ball.";

    @Test
    void embeddedDefaultModelTellsLilysStory() {
        Cli.Result r = Cli.run("generate", "-p", "Once upon a time", "--temp", "0", "-n", "40");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).startsWith(LILY);
        assertThat(r.err()).contains("tok/s");
    }

    @Test
    void convertedToGgufTellsTheSameStory(@TempDir Path dir) {
        for (String type : new String[] {"f32", "f16", "q8_0"}) {
            Path gguf = dir.resolve("stories-" + type + ".gguf");
            Cli.Result c = Cli.run("convert", Cli.home("models/stories260K/stories260K_q80.bin").toString(), "-o", gguf.toString(),
                    "--type", type);
            assertThat(c.exitCode()).as(c.err()).isZero();
            Cli.Result g = Cli.run("generate", "-m", gguf.toString(), "-p", "Once upon a time", "--temp", "0", "-n", "40");
            assertThat(g.exitCode()).as(g.err()).isZero();
            assertThat(g.out()).as(type).startsWith(LILY);
        }
    }

    @Test
    void sameSeedSameText() {
        String[] args = {"generate", "-p", "Once upon a time", "--temp", "0.9", "--seed", "7", "-n", "30"};
        Cli.Result a = Cli.run(args);
        Cli.Result b = Cli.run(args);
        assertThat(a.exitCode()).isZero();
        assertThat(a.out()).isEqualTo(b.out());
    }
}
