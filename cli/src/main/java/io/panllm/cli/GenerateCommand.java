package io.panllm.cli;

import io.panllm.runtime.LoadedModel;
import io.panllm.runtime.Session;
import io.panllm.runtime.generate.GenerationOptions;
import io.panllm.runtime.generate.GenerationResult;
import io.panllm.runtime.generate.Generator;
import io.panllm.runtime.generate.Sampler;
import io.panllm.runtime.generate.TokenizerTextStream;
import io.panllm.runtime.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code panllm generate}: continue a prompt, streaming the text. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Continue a prompt, streaming the text to stdout; speeds go to stderr at the end.",
                "Without -m, runs the embedded stories260K model."},
        footer = {"", "Example:", "  panllm generate -p \"Once upon a time\" -n 100 --temp 0"})
final class GenerateCommand implements Callable<Integer> {

    @Mixin
    ModelOptions modelOptions;

    static final class PromptSource {
        @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "the prompt")
        String prompt;

        @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "read the prompt from a file")
        Path file;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    PromptSource promptSource;

    @Option(names = {"-n", "--n-predict"}, paramLabel = "N", defaultValue = "256",
            description = "tokens to generate, -1 = until end of text or full context (default: ${DEFAULT-VALUE})")
    @Range(min = 0, also = -1)
    int maxTokens;

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N", defaultValue = "0",
            description = "context size (default: the model's, at most 4096)")
    @Range(min = 0)
    int contextSize;

    @Option(names = "--special", description = "parse special tokens such as <|begin_of_text|> in the prompt")
    boolean parseSpecial;

    @Option(names = "--no-bos", description = "do not add the BOS token")
    boolean noBos;

    @Mixin
    SamplingOptions sampling;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        String prompt = promptSource.prompt != null ? promptSource.prompt : TextFiles.readUtf8(promptSource.file);
        if (prompt.isEmpty()) {
            throw new IllegalArgumentException("the prompt is empty");
        }
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        try (LoadedModel loaded = modelOptions.open()) {
            Tokenizer tokenizer = loaded.tokenizer();
            int[] tokens = tokenizer.encode(prompt, !noBos, parseSpecial);
            int context = contextSize > 0 ? contextSize : Math.min(4096, loaded.model().trainedContextLength());
            if (tokens.length >= context) {
                throw new IllegalArgumentException("the prompt has " + tokens.length + " tokens, the context only "
                        + context + " (raise -c)");
            }
            Sampler sampler = Sampler.create(sampling.config(), loaded.model().vocabSize());
            Generator generator = new Generator(sampler, () -> new TokenizerTextStream(tokenizer));
            Runtime.getRuntime().addShutdownHook(new Thread(generator::cancel));
            out.print(prompt);
            out.flush();
            GenerationResult result;
            try (Session session = loaded.model().newSession(context)) {
                result = generator.generate(session, tokens, new GenerationOptions(maxTokens, tokenizer.stopTokens()),
                        new io.panllm.runtime.generate.TokenListener() {
                            @Override
                            public void onToken(int token, String piece) {
                                out.print(piece);
                                out.flush();
                            }

                            @Override
                            public void onTrailingText(String text) {
                                out.print(text);
                            }
                        });
            }
            out.println();
            out.flush();
            PrintWriter err = spec.commandLine().getErr();
            err.printf("%s%n", loaded.model().description());
            err.printf("prompt: %d tokens in %.1f ms (%.2f tok/s); generation: %d tokens in %.1f ms (%.2f tok/s, %.2f ms/token); stop: %s; seed %d%n",
                    result.promptTokens(), result.promptMillis(), result.promptTokensPerSecond(), result.generatedTokens(),
                    result.generationMillis(), result.tokensPerSecond(),
                    result.generatedTokens() == 0 ? 0 : result.generationMillis() / result.generatedTokens(),
                    result.reason().toString().toLowerCase().replace('_', ' '), sampler.seed());
            err.flush();
        }
        return ExitCodes.OK;
    }
}
