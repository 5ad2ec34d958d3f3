package io.panllm.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Flags: values out of range are usage errors naming the flag; -t means threads everywhere; help is complete. */
class CliOptionsTest {

    private static void assertOneLineError(Cli.Result r, int code, String... fragments) {
        assertThat(r.exitCode()).as(r.err()).isEqualTo(code);
        assertThat(r.err().strip().lines()).as(r.err()).hasSize(1);
        assertThat(r.err()).contains(fragments).doesNotContain("Exception").doesNotContain("\tat ");
    }

    static Stream<Arguments> outOfRange() {
        return Stream.of(
                Arguments.of("--n-predict", new String[] {"generate", "-p", "hi", "-n", "-2"}),
                Arguments.of("--ctx-size", new String[] {"generate", "-p", "hi", "-c", "-1"}),
                Arguments.of("--temp", new String[] {"generate", "-p", "hi", "--temp", "-1"}),
                Arguments.of("--top-p", new String[] {"generate", "-p", "hi", "--top-p", "2"}),
                Arguments.of("--top-p", new String[] {"generate", "-p", "hi", "--top-p", "0"}),
                Arguments.of("--top-k", new String[] {"generate", "-p", "hi", "--top-k", "-1"}),
                Arguments.of("--min-p", new String[] {"generate", "-p", "hi", "--min-p", "1.5"}),
                Arguments.of("--repeat-penalty", new String[] {"generate", "-p", "hi", "--repeat-penalty", "0"}),
                Arguments.of("--temp", new String[] {"generate", "-p", "hi", "--temp", "NaN"}),
                Arguments.of("--threads", new String[] {"generate", "-p", "hi", "-t", "-1"}),
                Arguments.of("--threads", new String[] {"generate", "-p", "hi", "-t", "100000"}),
                Arguments.of("--n-predict", new String[] {"chat", "-n", "-5"}),
                Arguments.of("--top-p", new String[] {"chat", "--top-p", "2"}),
                Arguments.of("--ctx-size", new String[] {"perplexity", "-f", "x", "-c", "2"}),
                Arguments.of("--chunks", new String[] {"perplexity", "-f", "x", "--chunks", "0"}),
                Arguments.of("--threads", new String[] {"perplexity", "-f", "x", "-t", "-1"}),
                Arguments.of("--repetitions", new String[] {"bench", "-r", "0"}),
                Arguments.of("--threads", new String[] {"bench", "-t", "100000"}),
                Arguments.of("--threads", new String[] {"convert", "--random-init", "tiny", "-o", "/nonexistent/x.gguf", "-t", "-1"}),
                Arguments.of("--threads", new String[] {"compare", "x", "-f", "y", "-t", "-1"}));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("outOfRange")
    void outOfRangeValuesAreUsageErrorsNamingTheFlag(String flag, String[] args) {
        Cli.Result r = Cli.run(args);
        assertOneLineError(r, 2, flag, "must be");
        assertThat(r.err()).doesNotContain("IllegalArgument");
    }

    @Test
    void minusOneTokensMeansUntilTheContextIsFull() {
        Cli.Result r = Cli.run("generate", "-p", "Once upon a time", "-n", "-1", "-c", "24", "--temp", "0", "-t", "1");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("stop: context full");
    }

    @Test
    void unknownChatTemplateIsAUsageError() {
        assertOneLineError(Cli.run("chat", "--chat-template", "foo"), 2, "--chat-template", "unknown chat template 'foo'", "llama3");
    }

    @Test
    void convertTakesTheTypeAsFlagOrPositionalAndDashTAsThreads(@TempDir Path dir) throws Exception {
        Path positional = dir.resolve("positional.gguf");
        Cli.Result r = Cli.run("convert", "--random-init", "tiny", "q4_0", "-o", positional.toString(), "-t", "1");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("(q4_0)");
        Path input = Cli.home("models/stories260K/stories260K_q80.bin");
        Path requant = dir.resolve("requant.gguf");
        r = Cli.run("convert", input.toString(), "q8_0", "-o", requant.toString(), "--threads", "2");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("(q8_0)");
        Path flag = dir.resolve("flag.gguf");
        assertThat(Cli.run("convert", input.toString(), "--type", "q8_0", "-o", flag.toString()).exitCode()).isZero();
        assertThat(Files.mismatch(requant, flag)).as("the same type by flag or by position, any thread count").isEqualTo(-1);

        assertOneLineError(Cli.run("convert", input.toString(), "q8_0", "--type", "f16", "-o", dir.resolve("x.gguf").toString()),
                2, "two types given");
        assertOneLineError(Cli.run("convert", input.toString(), "-t", "q4_0", "-o", dir.resolve("y.gguf").toString()),
                2, "--threads", "q4_0");
    }

    @Test
    void tokenizeReadsAFileAndAnyModelKind(@TempDir Path dir) throws Exception {
        Path text = dir.resolve("text.txt");
        Files.writeString(text, "Once upon a time, Lily said \"hi\".\nThe end.");
        String model = Cli.home("models/stories260K/stories260K_q80.bin").toString();
        Cli.Result fromFile = Cli.run("tokenize", "-m", model, "-f", text.toString(), "--ids");
        Cli.Result fromArg = Cli.run("tokenize", "--vocab", Cli.data("llama2c/tok512.bin").toString(), "--ids", Files.readString(text));
        assertThat(fromFile.exitCode()).as(fromFile.err()).isZero();
        assertThat(fromFile.out()).isEqualTo(fromArg.out()).startsWith("[");

        // A Hugging Face checkpoint folder: its tokenizer.json, as --vocab reads it.
        Path hf = Files.createDirectories(dir.resolve("hf"));
        Files.writeString(hf.resolve("config.json"), "{}");
        Files.copy(Cli.data("tokenizers/llama3/tokenizer.json"), hf.resolve("tokenizer.json"));
        Cli.Result checkpoint = Cli.run("tokenize", "-m", hf.toString(), "--ids", "Hello world");
        assertThat(checkpoint.exitCode()).as(checkpoint.err()).isZero();
        assertThat(checkpoint.out()).isEqualTo(Cli.run("tokenize", "--vocab", hf.resolve("tokenizer.json").toString(), "--ids",
                "Hello world").out());

        assertOneLineError(Cli.run("tokenize", "-m", dir.toString(), "hi"), 1, dir.toString(), "a directory");
        assertOneLineError(Cli.run("tokenize", "-m", model), 2, "-f FILE");
        assertOneLineError(Cli.run("tokenize", "-m", model, "-f", text.toString(), "hi"), 2, "-f FILE");
    }

    @Test
    void invalidUtf8TextNamesFileAndOffset(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.txt");
        Files.write(bad, new byte[] {'a', 'b', 'c', 'd', (byte) 0xFF, 'x'});
        assertOneLineError(Cli.run("perplexity", "-f", bad.toString(), "-c", "16", "-t", "1"), 1,
                bad + ": not valid UTF-8 (bad byte at offset 4)");
        assertOneLineError(Cli.run("tokenize", "-m", Cli.home("models/stories260K/stories260K_q80.bin").toString(), "-f",
                bad.toString()), 1, bad + ": not valid UTF-8 (bad byte at offset 4)");
        assertOneLineError(Cli.run("compare", Cli.home("models/stories260K/stories260K_q80.bin").toString(), "-f", bad.toString(),
                "-o", dir.resolve("report").toString()), 1, bad + ": not valid UTF-8 (bad byte at offset 4)");
        assertThat(dir.resolve("report")).doesNotExist();
    }

    @Test
    void safetensorsToRunSaysWhatIsMissingOrHowToConvert(@TempDir Path dir) throws Exception {
        Path weights = dir.resolve("x.safetensors");
        Files.writeString(weights, "");
        Cli.Result r = Cli.run("generate", "-m", weights.toString(), "-p", "hi");
        assertOneLineError(r, 1, "config.json and tokenizer.json");
        assertThat(r.err()).doesNotContain("panllm convert " + weights);

        Files.writeString(dir.resolve("config.json"), "{}");
        Files.writeString(dir.resolve("tokenizer.json"), "{}");
        assertOneLineError(Cli.run("generate", "-m", weights.toString(), "-p", "hi"), 1, "panllm convert " + weights + " -o");
    }

    @Test
    void topLevelHelpShowsWholeDescriptionsWrapped() {
        Cli.Result r = Cli.run("--help");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out().lines()).allSatisfy(line -> assertThat(line.length()).isLessThanOrEqualTo(80));
        String flat = r.out().replaceAll("\\s+", " ");
        // Each of these ended a command's description at a line break before.
        assertThat(flat).contains("text sent as typed, replies streamed as they are generated")
                .contains("/help lists the slash commands")
                .contains("the second half of every chunk is scored")
                .contains("like llama-bench: mean")
                .contains("Reads GGUF files, safetensors")
                .contains("bits per weight, peak memory")
                .doesNotContain("%n");

        Cli.Result bare = Cli.run();
        assertThat(bare.exitCode()).isEqualTo(2);
        assertThat(bare.err()).contains("Commands:").contains("generate");
    }
}
