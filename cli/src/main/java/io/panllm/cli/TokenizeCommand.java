package io.panllm.cli;

import io.panllm.gguf.GgufFile;
import io.panllm.runtime.tokenizer.Tokenizer;
import io.panllm.runtime.tokenizer.Tokenizers;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.StringJoiner;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code panllm tokenize}: the token ids of a text. */
@Command(name = "tokenize", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Print the tokens of TEXT: one 'id -> piece' line each, or only the ids with --ids.",
        footer = {"", "Examples:", "  panllm tokenize -m model.gguf \"Hello world\"",
                "  panllm tokenize --vocab tokenizer.json --ids --special \"<|begin_of_text|>Hi\""})
final class TokenizeCommand implements Callable<Integer> {

    static final class VocabSource {
        @Option(names = {"-m", "--model"}, paramLabel = "FILE", description = "a GGUF file (its tokenizer metadata)")
        Path model;

        @Option(names = "--vocab", paramLabel = "FILE", description = "an HF tokenizer.json or a llama2.c tokenizer.bin")
        Path vocab;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    VocabSource source;

    @Parameters(index = "0", paramLabel = "TEXT", description = "the text to tokenize")
    String text;

    @Option(names = "--ids", description = "print only the ids, as a list like [1, 15043]")
    boolean idsOnly;

    @Option(names = "--special", description = "parse special tokens written in TEXT")
    boolean parseSpecial;

    @Option(names = "--bos", description = "add the BOS token as the model would")
    boolean addBos;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (source.model != null) {
            try (GgufFile file = GgufFile.open(source.model)) {
                print(Tokenizers.fromGguf(file.metadata(), source.model.toString()), out);
            }
        } else {
            String name = source.vocab.getFileName().toString();
            Tokenizer tokenizer = name.endsWith(".json") ? Tokenizers.fromHfJson(source.vocab) : Tokenizers.fromLlama2c(source.vocab);
            print(tokenizer, out);
        }
        out.flush();
        return ExitCodes.OK;
    }

    private void print(Tokenizer tokenizer, PrintWriter out) {
        int[] ids = tokenizer.encode(text, addBos, parseSpecial);
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
