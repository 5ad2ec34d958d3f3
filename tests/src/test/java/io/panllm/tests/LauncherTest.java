package io.panllm.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/panllm} run as a user runs it, as a separate process: the README's exit codes (0 ok,
 * 1 bad input, 2 usage, 130 interrupted) must reach the caller through the launcher, and its
 * stderr filter must leave nothing but the command's own messages. Needs the jar the reactor's
 * package phase builds ({@code bin/test} runs {@code mvn install}), so the launcher never builds.
 */
class LauncherTest {
    static final Path HOME = Cli.home("").toAbsolutePath().normalize();
    static final String MODEL = "models/stories260K/stories260K_q80.bin";
    static final Duration TIMEOUT = Duration.ofSeconds(120);

    @TempDir
    Path scratch;

    @BeforeAll
    static void jarIsBuiltAndCurrent() throws IOException {
        Path jar = HOME.resolve("cli/target/panllm-cli.jar");
        assumeTrue(Files.isRegularFile(jar), () -> jar + " is not built (run bin/test, which runs mvn install)");
        long built = Files.getLastModifiedTime(jar).toMillis();
        try (Stream<Path> modules = Files.list(HOME)) {
            for (Path src : modules.map(m -> m.resolve("src/main")).filter(Files::isDirectory).toList()) {
                try (Stream<Path> files = Files.walk(src)) {
                    Path newer = files.filter(f -> f.toFile().lastModified() > built).findFirst().orElse(null);
                    assumeTrue(newer == null, () -> newer + " is newer than " + jar + ": the launcher would build (run bin/test)");
                }
            }
        }
    }

    private Processes.Result panllm(String stdin, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(HOME.resolve("bin/panllm").toString()));
        command.addAll(List.of(args));
        return Processes.run(HOME, scratch, command, stdin, Map.of(), TIMEOUT);
    }

    private static void assertOneLineError(Processes.Result r, int code, String... fragments) {
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(code);
        assertThat(r.err().strip().lines()).as(r.toString()).hasSize(1);
        assertThat(r.err()).contains(fragments).doesNotContain("Exception").doesNotContain("WARNING");
    }

    @Test
    void successfulCommandsExitZeroWithAnEmptyStderr() throws Exception {
        // An empty stderr made the launcher's filter (grep -v) fail and the launcher exit 1.
        Processes.Result info = panllm(null, "info", MODEL);
        assertThat(info.exitCode()).as(info.toString()).isZero();
        assertThat(info.err()).isEmpty(); // the JVM's incubator notice is filtered out
        assertThat(info.out()).contains("llama2.c");

        Processes.Result tokens = panllm(null, "tokenize", "-m", MODEL, "--ids", "Once upon a time");
        assertThat(tokens.exitCode()).as(tokens.toString()).isZero();
        assertThat(tokens.out().strip()).matches("\\[\\d+(, \\d+)+]");

        Processes.Result version = panllm(null, "--version");
        assertThat(version.exitCode()).as(version.toString()).isZero();
        assertThat(version.out()).startsWith("panllm ");

        Processes.Result help = panllm(null, "--help");
        assertThat(help.exitCode()).as(help.toString()).isZero();
        assertThat(help.out()).contains("Exit codes:").contains("130  interrupted");
    }

    @Test
    void generateStreamsTheStoryAndExitsZero() throws Exception {
        Processes.Result r = panllm(null, "generate", "-p", "Once upon a time", "--temp", "0", "-n", "16", "-t", "1");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).startsWith("Once upon a time").hasSizeGreaterThan("Once upon a time".length() + 10);
        assertThat(r.err()).contains("tok/s").doesNotContain("WARNING");
    }

    @Test
    void badFileIsOneAndBadFlagsAreTwo() throws Exception {
        assertOneLineError(panllm(null, "info", "/nonexistent/model.gguf"), 1, "/nonexistent/model.gguf: no such file");
        assertOneLineError(panllm(null, "generate", "--bogus"), 2, "--bogus");
        assertOneLineError(panllm(null, "generate", "-p", "hi", "-n", "-2"), 2, "--n-predict", "-2");
    }

    @Test
    void pipedChatEndsWithZeroAtEndOfInput() throws Exception {
        Processes.Result r = panllm("Hello\nTell me more\n", "chat", "--temp", "0", "-n", "8", "-t", "1");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).isNotBlank();
        assertThat(r.err()).doesNotContain("WARNING");
    }

    /** Every chat command of the README's examples works as written, from the repository root. */
    @Test
    void readmeChatExamplesRunAsWritten() throws Exception {
        List<String> examples = Files.readAllLines(HOME.resolve("README.md")).stream()
                .filter(l -> l.startsWith("    ") && l.contains("bin/panllm chat")).map(String::strip).toList();
        assertThat(examples).isNotEmpty();
        for (String example : examples) {
            Processes.Result r = Processes.run(HOME, scratch, List.of("bash", "-o", "pipefail", "-c", example),
                    "Hello\n", Map.of(), TIMEOUT);
            assertThat(r.exitCode()).as(example + "\n" + r).isZero();
            assertThat(r.out()).as(example).isNotBlank();
        }
    }

    /**
     * Ctrl-C as a terminal sends it: SIGINT to the launcher's whole process group (setsid gives it
     * one of its own) while perplexity runs; the command stops and the launcher exits 130.
     */
    @Test
    void sigintDuringPerplexityExits130() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setsid")) || Files.isExecutable(Path.of("/bin/setsid")), "no setsid");
        assumeTrue(!sigintIgnored(), "SIGINT is ignored by this JVM (started in the background?), so by its children");
        Path text = scratch.resolve("text.txt");
        Files.writeString(text, "Once upon a time there was a little girl named Lily. She liked to play in the park.\n".repeat(2000));
        List<String> command = List.of("setsid", HOME.resolve("bin/panllm").toString(), "perplexity", "-m", MODEL,
                "-f", text.toString(), "-c", "128", "-t", "1");
        Process p = Processes.start(HOME, scratch, command, Map.of());
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!Processes.stdout(scratch).contains("[1]")) { // the first chunk's PPL: the handler is installed
            assertThat(p.isAlive()).as("perplexity ended before the first chunk").isTrue();
            assertThat(System.nanoTime()).as("no first chunk in time").isLessThan(deadline);
            Thread.sleep(50);
        }
        int kill = new ProcessBuilder("kill", "-INT", "--", "-" + p.pid()).inheritIO().start().waitFor();
        assertThat(kill).isZero();
        Processes.Result r = Processes.finish(p, scratch, TIMEOUT);
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(130);
        assertThat(r.err()).contains("interrupted");
    }

    /** Whether SIGINT (signal 2) is in this process's ignored set, which children inherit. */
    private static boolean sigintIgnored() throws IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.isReadable(status)) {
            return false;
        }
        return Files.readAllLines(status).stream().filter(l -> l.startsWith("SigIgn:"))
                .anyMatch(l -> (Long.parseUnsignedLong(l.substring(7).strip(), 16) & (1L << 1)) != 0);
    }
}
