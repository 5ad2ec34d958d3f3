package io.panllm.cli;

import io.panllm.runtime.calibration.Imatrix;
import io.panllm.runtime.calibration.ImatrixFile;
import io.panllm.runtime.convert.ConvertException;
import io.panllm.runtime.convert.Converter;
import io.panllm.runtime.convert.ModelSource;
import io.panllm.runtime.convert.QuantPolicy;
import io.panllm.runtime.convert.RandomInit;
import io.panllm.runtime.convert.TargetType;
import io.panllm.tensor.GgmlType;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code panllm convert}: any model panllm reads, to GGUF, quantizing on the way. */
@Command(name = "convert", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Convert a model to GGUF, quantizing on the way.",
                "INPUT: a Hugging Face checkpoint directory (config.json + model*.safetensors + tokenizer.json),",
                "a llama2.c checkpoint (with tokenizer.bin beside it or --vocab), or a GGUF file (re-quantized).",
                "The output is written to a temporary file and renamed only when complete."},
        footer = {"", "Types: f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q4_k_s q4_k_m (= q4_k) q5_k_m q6_k iq4_nl; nf4 fp4 int8",
                "(panllm extension types in bitsandbytes' layouts, int8 = LLM.int8 row-wise; refused by llama.cpp;",
                "without --allow-extension-types nf4 is written as iq4_nl and int8 as q8_0, fp4 is refused).",
                "Mixed types follow llama.cpp's llama-quantize (output in Q6_K, some attn_v/ffn_down in Q6_K for Q4_K_M).",
                "The type can also follow INPUT, as in llama-quantize: panllm convert model.gguf q4_0 -o out.gguf.",
                "", "Examples:", "  panllm convert ./Llama-3.2-1B -o llama-1b-q4_k_m.gguf --type q4_k_m",
                "  panllm convert --random-init llama-3.2-1b --type q4_0 -o random-1b-q4_0.gguf"})
final class ConvertCommand implements Callable<Integer> {
    static final String DEFAULT_TYPE = "f16";

    @Parameters(index = "0", arity = "0..1", paramLabel = "INPUT", description = "model to convert (omit with --random-init)")
    String input;

    @Parameters(index = "1", arity = "0..1", paramLabel = "TYPE", description = "target type, as --type")
    String positionalType;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT.gguf", description = "output GGUF file")
    Path output;

    @Option(names = "--type", paramLabel = "TYPE", description = "target type (default: " + DEFAULT_TYPE + ")")
    String type;

    @Mixin
    ThreadsOption threads;

    @Option(names = "--from", paramLabel = "FORMAT", description = "input format: hf, llama2c or gguf (default: detected)")
    String from;

    @Option(names = "--random-init", paramLabel = "SHAPE", description = "random weights in a real model's shapes: llama-3.2-1b, llama-3.1-8b, tiny")
    String randomInit;

    @Option(names = "--seed", defaultValue = "1234", description = "seed for --random-init (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--vocab", paramLabel = "FILE", description = "tokenizer to embed: tokenizer.json (HF) or tokenizer.bin (llama2.c)")
    Path vocab;

    @Option(names = {"--keep-embeddings", "--token-embedding-type"}, paramLabel = "TYPE", description = "type for token_embd.weight, e.g. f16")
    String embeddingType;

    @Option(names = "--output-tensor-type", paramLabel = "TYPE", description = "type for output.weight, e.g. q8_0")
    String outputType;

    @Option(names = "--allow-extension-types", description = "write NF4/FP4/INT8 as panllm's own GGUF types (llama.cpp cannot read the file)")
    boolean allowExtensionTypes;

    @Option(names = {"-f", "--force"}, description = "overwrite OUT if it exists")
    boolean force;

    @Option(names = "--imatrix", paramLabel = "FILE", description = "importance matrix (panllm imatrix or llama-imatrix, GGUF or .dat):"
            + " weighted quantization as llama-quantize --imatrix")
    Path imatrix;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        TargetType target = TargetType.parse(resolvePositionals());
        PrintWriter out = spec.commandLine().getOut();
        if (target.isExtension() && !allowExtensionTypes) {
            if (target == TargetType.FP4) {
                throw new IllegalArgumentException("fp4 has no GGUF type llama.cpp can read: add --allow-extension-types "
                        + "to write panllm's own FP4 type, or choose iq4_nl");
            }
            if (target == TargetType.INT8) {
                out.println("note: llama.cpp has no LLM.int8 type; writing Q8_0 (8-bit blocks of 32). "
                        + "Use --allow-extension-types for panllm's INT8 (bitsandbytes' row-wise layout).");
                target = TargetType.Q8_0;
            } else {
                out.println("note: GGUF has no NF4 type; writing IQ4_NL (llama.cpp's non-linear 4-bit type). "
                        + "Use --allow-extension-types for panllm's own NF4.");
                target = TargetType.IQ4_NL;
            }
        }
        if (Files.exists(output) && !force) {
            throw new IllegalArgumentException(output + " exists (add --force to overwrite)");
        }
        if (output.toAbsolutePath().getParent() != null && !Files.isDirectory(output.toAbsolutePath().getParent())) {
            throw new IllegalArgumentException(output.toAbsolutePath().getParent() + ": no such directory");
        }
        try (ModelSource source = openSource()) {
            QuantPolicy policy = QuantPolicy.forSource(source, target, parseType(embeddingType), parseType(outputType));
            Imatrix importance = imatrix == null ? null : ImatrixFile.read(imatrix);
            out.printf("converting %s -> %s (%s)%n", source.description(), output, target.label());
            if (importance != null) {
                out.printf("imatrix %s: %d entries, %d tensors quantized with importance weights%n", imatrix,
                        importance.entries().size(), Converter.weightedTensorCount(source, policy, importance));
            }
            out.flush();
            ProgressBar bar = new ProgressBar("convert");
            Converter.Result result;
            try {
                result = threads.run(() -> Converter.convert(source, policy, output, (i, n, name, t, done, total) ->
                        bar.update(done, total, String.format("%d/%d tensors %s/%s", i + 1, n, Table.bytes(done), Table.bytes(total))), importance));
            } finally {
                bar.close();
            }
            out.printf("wrote %s: %s, %,d parameters, %.2f bits per weight%n", result.file(), Table.bytes(Files.size(result.file())),
                    result.parameters(), 8.0 * result.bytes() / Math.max(1, result.parameters()));
            result.parametersPerType().forEach((t, p) -> out.printf("  %-8s %,15d parameters%n", t, p));
        }
        return ExitCodes.OK;
    }

    private ModelSource openSource() throws Exception {
        if (randomInit != null) {
            if (input != null) {
                throw new IllegalArgumentException("give either INPUT or --random-init, not both");
            }
            RandomInit.Shape shape = RandomInit.Shape.parse(randomInit);
            return new RandomInit(shape, seed, vocab == null ? null : Sources.tokenizerMetadata(vocab));
        }
        if (input == null) {
            throw new IllegalArgumentException("missing INPUT (or --random-init SHAPE)");
        }
        return Sources.open(Path.of(input), from, vocab);
    }

    /**
     * The target type: --type or the positional TYPE after INPUT. With --random-init, which takes
     * no INPUT, a single positional argument is the type: it moves from {@code input} to the type.
     */
    private String resolvePositionals() {
        String positional = positionalType;
        if (randomInit != null && positional == null && input != null) {
            positional = input;
            input = null;
        }
        if (positional != null && type != null && !positional.equalsIgnoreCase(type)) {
            throw new ParameterException(spec.commandLine(), "two types given: --type " + type + " and " + positional);
        }
        return positional != null ? positional : type != null ? type : DEFAULT_TYPE;
    }

    private static GgmlType parseType(String s) {
        if (s == null) {
            return null;
        }
        GgmlType t = GgmlType.fromName(s);
        if (t == null) {
            throw new IllegalArgumentException("unknown tensor type '" + s + "'");
        }
        return t;
    }

    /** Raised for inputs a converter exists for but cannot take. */
    static ConvertException unsupported(String what) {
        return new ConvertException(what);
    }
}
