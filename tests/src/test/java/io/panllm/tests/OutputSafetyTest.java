package io.panllm.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Outputs never overwrite inputs, whatever name they go by, and interrupted or killed writes
 * leave no hidden partial files behind (issue 10, section 5).
 */
class OutputSafetyTest {

    private static Path copyOfStories(Path dir) throws Exception {
        Path model = dir.resolve("stories.bin");
        Files.copy(Cli.home("models/stories260K/stories260K_q80.bin"), model);
        Files.copy(Cli.home("models/stories260K/tok512.bin"), dir.resolve("tokenizer.bin"));
        return model;
    }

    private static void assertRefused(Cli.Result r, String fragment) {
        assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
        assertThat(r.err().strip().lines()).hasSize(1);
        assertThat(r.err()).contains(fragment).doesNotContain("Exception");
    }

    @Test
    void klDivergenceBaseNamingTheModelIsRefusedUnderAnyName(@TempDir Path dir) throws Exception {
        Path model = copyOfStories(dir);
        byte[] before = Files.readAllBytes(model);
        Path link = Files.createSymbolicLink(dir.resolve("link.bin"), model);
        Path hard = Files.createLink(dir.resolve("hard.bin"), model);
        Path dotted = dir.resolve(".").resolve("stories.bin");
        String text = Cli.data("wikitext-2/wiki.test.raw").toString();
        for (Path base : List.of(model, link, hard, dotted)) {
            assertRefused(Cli.run("perplexity", "-m", model.toString(), "-f", text, "-c", "64", "--chunks", "1",
                    "--kl-divergence-base", base.toString()), "is the input");
        }
        assertRefused(Cli.run("perplexity", "-m", model.toString(), "-f", text, "-c", "64", "--chunks", "1",
                "--kl-divergence-base", text), "is the input");
        assertThat(Files.readAllBytes(model)).isEqualTo(before);
        assertThat(partials(dir)).isEmpty();
    }

    @Test
    void convertOntoItsInputIsRefusedEvenWithForce(@TempDir Path dir) throws Exception {
        Path model = copyOfStories(dir);
        byte[] before = Files.readAllBytes(model);
        assertRefused(Cli.run("convert", model.toString(), "-o", model.toString(), "--force"), "is the input");
        Path link = Files.createSymbolicLink(dir.resolve("link.gguf"), model);
        assertRefused(Cli.run("convert", model.toString(), "-o", link.toString(), "--force"), "is the input");
        assertRefused(Cli.run("convert", model.toString(), "--vocab", dir.resolve("tokenizer.bin").toString(),
                "-o", dir.resolve("tokenizer.bin").toString(), "--force"), "is the input");
        assertThat(Files.readAllBytes(model)).isEqualTo(before);
    }

    @Test
    void compareIntoTheInputsFolderIsRefused(@TempDir Path dir) throws Exception {
        Path model = copyOfStories(dir);
        assertRefused(Cli.run("compare", model.toString(), "-f", Cli.data("wikitext-2/wiki.test.raw").toString(), "--types", "q8_0",
                "-o", dir.toString()), "holds the input");
        assertRefused(Cli.run("compare", model.toString(), "-f", Cli.data("wikitext-2/wiki.test.raw").toString(), "--types", "q8_0",
                "-o", model.toString()), "is the input");
    }

    static List<Path> partials(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".partial") || p.getFileName().toString().endsWith(".tmp")).toList();
        }
    }

    /** panllm convert in a JVM of its own (for signals), with the launcher's JVM options. */
    private static Process startConvert(Path output, String... extra) throws Exception {
        Path home = Cli.home("");
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", home.resolve("cli/target/panllm-cli.jar") + File.pathSeparator + home.resolve("cli/target/lib/*"),
                "io.panllm.cli.Main", "convert", "-o", output.toString(), "--force"));
        command.addAll(List.of(extra));
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    /** Waits until the convert has started writing its partial file. */
    private static void awaitPartial(Path dir, Process p) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (partials(dir).isEmpty()) {
            assertThat(p.isAlive()).as("convert still running").isTrue();
            assertThat(System.nanoTime()).as("a partial file appears").isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    @Test
    void interruptedConvertLeavesNoPartialAndKilledOnesAreCleanedUpByTheNextRun(@TempDir Path dir) throws Exception {
        Path output = dir.resolve("big.gguf");
        String[] big = {"--random-init", "llama-3.2-1b", "--type", "q4_0"};

        Process interrupted = startConvert(output, big);
        awaitPartial(dir, interrupted);
        new ProcessBuilder("kill", "-INT", Long.toString(interrupted.pid())).start().waitFor();
        assertThat(interrupted.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(interrupted.exitValue()).isEqualTo(130);
        assertThat(partials(dir)).isEmpty();
        assertThat(output).doesNotExist();

        Process killed = startConvert(output, big);
        awaitPartial(dir, killed);
        killed.destroyForcibly().waitFor();
        assertThat(partials(dir)).as("SIGKILL runs no code").hasSize(1);

        Process next = startConvert(output, "--random-init", "tiny", "--type", "q8_0");
        assertThat(next.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(next.exitValue()).isZero();
        assertThat(partials(dir)).as("the next write of the same target removes the dead one's partial").isEmpty();
        assertThat(output).exists();
    }
}
