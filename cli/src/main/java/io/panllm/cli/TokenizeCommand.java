package io.panllm.cli;

import io.panllm.gguf.GgufFile;
import io.panllm.runtime.convert.Llama2cSource;
import io.panllm.runtime.tokenizer.Tokenizer;
import io.panllm.runtime.tokenizer.Tokenizers;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.StringJoiner;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code panllm tokenize}: the token ids of a text. */
@Command(name = "tokenize", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Print the tokens of TEXT (or of a file with -f): one 'id -> piece' line each, or only the ids with --ids.",
        footer = {"", "Examples:", "  panllm tokenize -m model.gguf \"Hello world\"",
                "  panllm tokenize -m ./Llama-3.2-1B -f wiki.test.raw --ids",
                "  panllm tokenize --vocab tokenizer.json --ids --special \"<|begin_of_text|>Hi\""})
final class TokenizeCommand implements Callable<Integer> {

    static final class VocabSource {
        @Option(names = {"-m", "--model"}, paramLabel = "FILE",
                description = "a model's tokenizer: GGUF, Hugging Face checkpoint (its tokenizer.json) or llama2.c (tokenizer.bin beside it)")
        Path model;

        @Option(names = "--vocab", paramLabel = "FILE", description = "an HF tokenizer.json or a llama2.c tokenizer.bin")
        Path vocab;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    VocabSource source;

    @Parameters(index = "0", arity = "0..1", paramLabel = "TEXT", description = "the text to tokenize")
    String text;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "tokenize the text of FILE (UTF-8) instead of TEXT")
    Path file;

    @Option(names = "--ids", description = "print only the ids, as a list like [1, 15043]")
    boolean idsOnly;

    @Option(names = "--special", description = "parse special tokens written in TEXT")
    boolean parseSpecial;

    @Option(names = "--bos", description = "add the BOS token as the model would")
    boolean addBos;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if ((text == null) == (file == null)) {
            throw new ParameterException(spec.commandLine(), "give the text as TEXT or with -f FILE (one of them)");
        }
        String input = text != null ? text : TextFiles.readUtf8(file);
        Tokenizer tokenizer;
        if (source.model != null) {
            tokenizer = ofModel(source.model);
        } else {
            String name = source.vocab.getFileName().toString();
            tokenizer = name.endsWith(".json") ? Tokenizers.fromHfJson(source.vocab) : Tokenizers.fromLlama2c(source.vocab);
        }
        PrintWriter out = spec.commandLine().getOut();
        print(tokenizer, input, out);
        out.flush();
        return ExitCodes.OK;
    }

    /** The tokenizer of any model file panllm reads, found as the converter finds it. */
    private static Tokenizer ofModel(Path model) {
        return switch (ModelFiles.detect(model)) {
            case GGUF -> {
                try (GgufFile gguf = GgufFile.open(model)) {
                    yield Tokenizers.fromGguf(gguf.metadata(), model.toString());
                }
            }
            case SAFETENSORS, HF_DIRECTORY -> {
                Path json = ModelFiles.checkpointDirectory(model).resolve("tokenizer.json");
                if (!Files.isRegularFile(json)) {
                    throw new BadInputException(model + ": no tokenizer.json in " + json.getParent() + " (or give one with --vocab)");
                }
                yield Tokenizers.fromHfJson(json);
            }
            case LLAMA2C -> {
                try (Llama2cSource checkpoint = new Llama2cSource(model, null)) {
                    yield checkpoint.tokenizer();
                }
            }
        };
    }

    private void print(Tokenizer tokenizer, String input, PrintWriter out) {
        int[] ids = tokenizer.encode(input, addBos, parseSpecial);
        if (idsOnly) {
            StringJoiner j = new StringJoiner(", ", "[", "]");
            for (int id : ids) {
                j.add(Integer.toString(id));
            }
            out.println(j);
            return;
        }
        for (int id : ids) {
            out.printf("%6d -> '%s'%n", id, tokenizer.piece(id));
        }
    }
}
