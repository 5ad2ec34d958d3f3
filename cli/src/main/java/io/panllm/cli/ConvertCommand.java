package io.panllm.cli;

import io.panllm.runtime.calibration.Imatrix;
import io.panllm.runtime.calibration.ImatrixFile;
import io.panllm.runtime.convert.ConvertException;
import io.panllm.runtime.convert.Converter;
import io.panllm.runtime.convert.HfExport;
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
        description = {"Convert a model to GGUF, quantizing on the way (or, with --to safetensors, to a Hugging Face checkpoint).",
                "INPUT: a Hugging Face checkpoint directory (config.json + model*.safetensors + tokenizer.json),",
                "a llama2.c checkpoint (with tokenizer.bin beside it or --vocab), or a GGUF file (re-quantized).",
                "The output is written to a temporary file and renamed only when complete."},
        footer = {"", "Types: f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q4_k_s q4_k_m (= q4_k) q5_k_m q6_k iq4_nl; nf4 fp4 int8",
                "(panllm extension types in bitsandbytes' layouts, int8 = LLM.int8 row-wise; refused by llama.cpp;",
                "without --allow-extension-types nf4 is written as iq4_nl and int8 as q8_0, fp4 is refused).",
                "Mixed types follow llama.cpp's llama-quantize (output in Q6_K, some attn_v/ffn_down in Q6_K for Q4_K_M).",
                "The type can also follow INPUT, as in llama-quantize: panllm convert model.gguf q4_0 -o out.gguf.",
                "", "Examples:", "  panllm convert ./Llama-3.2-1B -o llama-1b-q4_k_m.gguf --type q4_k_m",
                "  panllm convert --random-init llama-3.2-1b --type q4_0 -o random-1b-q4_0.gguf",
                "  panllm convert llama-1b-f16.gguf -o ./llama-1b-hf --to safetensors --type bf16"})
final class ConvertCommand implements Callable<Integer> {
    static final String DEFAULT_TYPE = "f16";

    @Parameters(index = "0", arity = "0..1", paramLabel = "INPUT", description = "model to convert (omit with --random-init)")
    String input;

    @Parameters(index = "1", arity = "0..1", paramLabel = "TYPE", description = "target type, as --type")
    String positionalType;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT", description = "output GGUF file, or directory for --to safetensors")
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

    @Option(names = "--to", paramLabel = "FORMAT", description = "output format: gguf or safetensors (a Hugging Face checkpoint"
            + " directory; types f32 f16 bf16 nf4 fp4 int8). Default: gguf for OUT.gguf, safetensors for a directory or a name"
            + " without extension")
    String to;

    @Option(names = "--max-shard-size", paramLabel = "BYTES", defaultValue = "5GB",
            description = "safetensors output: largest shard, e.g. 5GB, 500MB (default: ${DEFAULT-VALUE})")
    String maxShardSize;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        String typeName = resolvePositionals();
        PrintWriter out = spec.commandLine().getOut();
        if (writesHuggingFace()) {
            if (imatrix != null) {
                throw new IllegalArgumentException("--imatrix applies to GGUF output only");
            }
            return exportHuggingFace(out, typeName);
        }
        TargetType target = TargetType.parse(typeName);
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
        OutputPaths.refuseInputs("-o", output, input == null ? null : Path.of(input), vocab, imatrix);
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

    private boolean writesHuggingFace() {
        if (to != null) {
            return switch (to.toLowerCase(java.util.Locale.ROOT)) {
                case "gguf" -> false;
                case "safetensors", "hf" -> true;
                default -> throw new IllegalArgumentException("--to must be gguf or safetensors, not '" + to + "'");
            };
        }
        String name = output.getFileName() == null ? "" : output.getFileName().toString();
        return !name.endsWith(".gguf") && (Files.isDirectory(output) || !name.contains("."));
    }

    /** convert -o DIR --to safetensors: a Hugging Face checkpoint directory. */
    private int exportHuggingFace(PrintWriter out, String typeName) throws Exception {
        HfExport.Format format = HfExport.Format.parse(typeName);
        long shardBytes = parseBytes(maxShardSize);
        Path target = output.toAbsolutePath().normalize();
        Path inputPath = input == null ? null : Path.of(input);
        if (inputPath != null && inputPath.toAbsolutePath().normalize().startsWith(target)) {
            throw new IllegalArgumentException("the output " + output + " holds the input " + input + "; choose another directory");
        }
        OutputPaths.refuseInputsInside("-o", target, inputPath, vocab);
        if (Files.exists(target) && !force) {
            throw new IllegalArgumentException(output + " exists (add --force to replace it)");
        }
        if (Files.exists(target) && !Files.isDirectory(target)) {
            throw new IllegalArgumentException(output + " is a file; a Hugging Face checkpoint is a directory");
        }
        try (ModelSource source = openSource()) {
            out.printf("converting %s -> %s (Hugging Face checkpoint, %s)%n", source.description(), output,
                    format.name().toLowerCase(java.util.Locale.ROOT));
            out.flush();
            HfExport.Result result = HfExport.export(source, format, target, shardBytes, force);
            long bytes = 0;
            for (Path f : result.files()) {
                bytes += Files.size(f);
            }
            out.printf("wrote %s: %d files, %s, %,d parameters%n", result.directory(), result.files().size(), Table.bytes(bytes),
                    result.parameters());
            result.notes().forEach(n -> out.println("note: " + n));
        }
        return ExitCodes.OK;
    }

    /** "5GB", "500MB", "1000" (bytes); decimal units, as transformers' max_shard_size. */
    static long parseBytes(String s) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)\\s*(\\d+)\\s*(|B|KB|MB|GB)\\s*").matcher(s);
        if (!m.matches()) {
            throw new IllegalArgumentException("--max-shard-size must be a size like 5GB or 500MB, not '" + s + "'");
        }
        long unit = switch (m.group(2).toUpperCase(java.util.Locale.ROOT)) {
            case "KB" -> 1_000L;
            case "MB" -> 1_000_000L;
            case "GB" -> 1_000_000_000L;
            default -> 1L;
        };
        long n = Long.parseLong(m.group(1));
        if (n <= 0) {
            throw new IllegalArgumentException("--max-shard-size must be positive");
        }
        return Math.multiplyExact(n, unit);
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
