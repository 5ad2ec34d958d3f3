package io.panllm.tests.fuzz;

import io.panllm.gguf.GgufException;
import io.panllm.gguf.GgufFile;
import io.panllm.hf.HfConfigException;
import io.panllm.llama2c.Llama2cException;
import io.panllm.runtime.LoadedModel;
import io.panllm.runtime.convert.ConvertException;
import io.panllm.runtime.convert.Converter;
import io.panllm.runtime.convert.GgufSource;
import io.panllm.runtime.convert.HfSource;
import io.panllm.runtime.convert.Llama2cSource;
import io.panllm.runtime.convert.ModelSource;
import io.panllm.runtime.convert.QuantPolicy;
import io.panllm.runtime.convert.TargetType;
import io.panllm.runtime.generate.Sampler;
import io.panllm.runtime.generate.SamplerConfig;
import io.panllm.runtime.model.ModelException;
import io.panllm.runtime.tokenizer.Tokenizer;
import io.panllm.runtime.tokenizer.TokenizerException;
import io.panllm.safetensors.SafetensorsException;
import io.panllm.tensor.UnsupportedTypeException;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * Mutates model inputs ({@link FuzzSeeds}, {@link Mutations}) and puts every mutant through what
 * the commands do with a model: open it as a model on the CPU (GGUF, llama2.c), run a forward pass
 * over a short prompt and sample a token with the default sampler, and convert it to GGUF (a
 * different target type each case). An outcome is OK when it ran or ended in one of the project's
 * typed exceptions, the ones the CLI turns into a one-line error; anything else (another
 * exception, an Error such as OutOfMemoryError, a case over the time limit) is a failure, printed
 * with the case's seed so that {@code --seed S --case N} reproduces it.
 *
 * <p>{@code tests/fuzz/run.sh CASES [SEED]} runs it from the command line; {@link ModelFuzzTest}
 * runs a few thousand cases in the build.
 */
public final class ModelFuzzer {
    /** The exceptions behind panllm's documented one-line errors (exit code 1). */
    private static final List<Class<? extends Throwable>> DOCUMENTED = List.of(GgufException.class, SafetensorsException.class,
            HfConfigException.class, Llama2cException.class, UnsupportedTypeException.class, ModelException.class,
            ConvertException.class, TokenizerException.class, IOException.class, UncheckedIOException.class);
    private static final TargetType[] TARGETS = {TargetType.F16, TargetType.Q8_0, TargetType.Q4_0, TargetType.Q4_K_M,
            TargetType.IQ4_NL, TargetType.INT8, TargetType.NF4, TargetType.BF16, TargetType.Q6_K};

    enum Outcome { RAN, REFUSED, FAILED, HUNG }

    /** The counts of one run, per seed and outcome. */
    static final class Report {
        final Map<String, EnumMap<Outcome, Integer>> bySeed = new LinkedHashMap<>();
        final Map<String, Long> nanosBySeed = new LinkedHashMap<>();
        final List<String> failures = new ArrayList<>();
        long nanos;

        void count(String seed, Outcome o) {
            bySeed.computeIfAbsent(seed, s -> new EnumMap<>(Outcome.class)).merge(o, 1, Integer::sum);
        }

        int total(Outcome o) {
            return bySeed.values().stream().mapToInt(m -> m.getOrDefault(o, 0)).sum();
        }

        void print(PrintStream out) {
            out.printf("%-22s %8s %8s %8s %6s %6s %8s%n", "seed", "cases", "ran", "refused", "failed", "hung", "ms/case");
            bySeed.forEach((seed, m) -> {
                int n = m.values().stream().mapToInt(i -> i).sum();
                out.printf(java.util.Locale.ROOT, "%-22s %8d %8d %8d %6d %6d %8.1f%n", seed, n, m.getOrDefault(Outcome.RAN, 0),
                        m.getOrDefault(Outcome.REFUSED, 0), m.getOrDefault(Outcome.FAILED, 0), m.getOrDefault(Outcome.HUNG, 0),
                        nanosBySeed.getOrDefault(seed, 0L) / 1e6 / n);
            });
            out.printf("total %d cases in %.1f s: %d ran, %d refused with a one-line error, %d failed, %d hung%n",
                    bySeed.values().stream().flatMap(m -> m.values().stream()).mapToInt(i -> i).sum(), nanos / 1e9,
                    total(Outcome.RAN), total(Outcome.REFUSED), total(Outcome.FAILED), total(Outcome.HUNG));
        }
    }

    private final List<FuzzSeeds.Seed> seeds;
    private final int totalWeight;
    private final Path work;
    private final long seed;
    private final long timeoutMillis;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "fuzz-case");
        t.setDaemon(true); // a hung case must not keep the JVM alive
        return t;
    });

    ModelFuzzer(Path data, Path work, long seed, long timeoutMillis) throws IOException {
        this.work = work;
        this.seed = seed;
        this.timeoutMillis = timeoutMillis;
        this.seeds = FuzzSeeds.build(data, Files.createDirectories(work.resolve("seeds")));
        this.totalWeight = seeds.stream().mapToInt(FuzzSeeds.Seed::weight).sum();
    }

    /** Runs cases [first, first + count); stops at the first hang (its thread cannot be stopped). */
    Report run(long first, long count, PrintStream log) {
        Report report = new Report();
        long start = System.nanoTime();
        for (long c = first; c < first + count; c++) {
            SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + c);
            FuzzSeeds.Seed s = pick(random);
            Mutations mutations = new Mutations(random);
            Path dir = work.resolve("case");
            long caseStart = System.nanoTime();
            Future<Throwable> f = worker.submit(() -> runCase(s, mutations, random, dir));
            Outcome outcome;
            Throwable problem = null;
            try {
                problem = f.get(timeoutMillis, TimeUnit.MILLISECONDS);
                outcome = problem == null ? Outcome.RAN : documented(problem) ? Outcome.REFUSED : Outcome.FAILED;
            } catch (TimeoutException e) {
                outcome = Outcome.HUNG;
            } catch (Exception e) {
                outcome = Outcome.FAILED;
                problem = e;
            }
            report.count(s.name(), outcome);
            report.nanosBySeed.merge(s.name(), System.nanoTime() - caseStart, Long::sum);
            if (outcome == Outcome.REFUSED && Boolean.getBoolean("panllm.fuzz.verbose")) {
                log.println("refused case " + c + " (" + s.name() + ": " + String.join("; ", mutations.applied) + "): " + problem);
            }
            if (outcome == Outcome.FAILED || outcome == Outcome.HUNG) {
                String line = String.format("FAIL --seed %d --case %d (%s: %s): %s", seed, c, s.name(), String.join("; ", mutations.applied),
                        outcome == Outcome.HUNG ? "no result after " + timeoutMillis + " ms" : describe(problem));
                report.failures.add(line);
                log.println(line);
                if (problem != null && Boolean.getBoolean("panllm.fuzz.trace")) {
                    problem.printStackTrace(log);
                }
                if (outcome == Outcome.HUNG) {
                    break;
                }
            }
            if ((c - first + 1) % 10_000 == 0) {
                log.printf("%d cases, %d failed, %.0f s%n", c - first + 1, report.total(Outcome.FAILED), (System.nanoTime() - start) / 1e9);
            }
        }
        report.nanos = System.nanoTime() - start;
        return report;
    }

    private static String describe(Throwable t) {
        StackTraceElement[] at = t.getStackTrace();
        return t + (at.length > 0 ? " at " + at[0] : "");
    }

    static boolean documented(Throwable t) {
        return DOCUMENTED.stream().anyMatch(c -> c.isInstance(t));
    }

    private FuzzSeeds.Seed pick(SplittableRandom random) {
        int r = random.nextInt(totalWeight);
        for (FuzzSeeds.Seed s : seeds) {
            r -= s.weight();
            if (r < 0) {
                return s;
            }
        }
        throw new AssertionError();
    }

    /** Writes the mutant, then runs load + forward + sample and convert; returns the first problem or null. */
    private static Throwable runCase(FuzzSeeds.Seed s, Mutations m, SplittableRandom random, Path dir) {
        try {
            deleteTree(dir);
            Files.createDirectories(dir);
            Path input = writeMutant(s, m, random, dir);
            Throwable problem = null;
            if (s.kind() != FuzzSeeds.Kind.SAFETENSORS) {
                problem = attempt(() -> loadAndRun(s.kind(), input, dir));
            }
            Path converted = dir.resolve("out.gguf");
            Throwable convertProblem = attempt(() -> convert(s.kind(), input, dir, converted, TARGETS[random.nextInt(TARGETS.length)]));
            if (convertProblem == null && s.kind() == FuzzSeeds.Kind.SAFETENSORS) {
                convertProblem = attempt(() -> loadAndRun(FuzzSeeds.Kind.GGUF, converted, dir));
            }
            // An undocumented failure outranks a documented one, whichever step it came from.
            if (problem == null || documented(problem) && convertProblem != null && !documented(convertProblem)) {
                problem = convertProblem;
            }
            return problem;
        } catch (Throwable t) {
            return t;
        }
    }

    private interface Step {
        void run() throws Exception;
    }

    private static Throwable attempt(Step step) {
        try {
            step.run();
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    private static Path writeMutant(FuzzSeeds.Seed s, Mutations m, SplittableRandom random, Path dir) throws IOException {
        byte[] bytes = s.bytes();
        int family = random.nextInt(4);
        switch (s.kind()) {
            case GGUF -> {
                long dataStart;
                try (GgufFile f = GgufFile.fromBytes(bytes, "seed")) {
                    dataStart = f.dataOffset();
                }
                bytes = switch (family) {
                    case 0 -> m.bytes(bytes, (int) Math.min(dataStart, bytes.length));
                    case 1 -> m.ggufMetadata(bytes, dir);
                    case 2 -> m.ggufTensorTable(bytes);
                    default -> random.nextBoolean() ? m.tensorData(bytes, dataStart) : m.bytes(bytes, bytes.length);
                };
                Path p = dir.resolve("model.gguf");
                Files.write(p, bytes);
                return p;
            }
            case LLAMA2C -> {
                Path tokenizer = dir.resolve("tokenizer.bin");
                byte[] tok = Files.readAllBytes(s.companions().resolve("tokenizer.bin"));
                switch (family) {
                    case 0 -> bytes = m.bytes(bytes, 64);
                    case 1 -> bytes = m.llama2cHeader(bytes);
                    case 2 -> tok = m.bytes(tok, tok.length);
                    default -> bytes = random.nextBoolean() ? m.bytes(bytes, bytes.length) : m.tensorData(bytes, 64);
                }
                Files.write(tokenizer, tok);
                Path p = dir.resolve("model.bin");
                Files.write(p, bytes);
                return p;
            }
            default -> {
                String config = Files.readString(s.companions().resolve("config.json"));
                for (String companion : List.of("tokenizer.json", "tokenizer_config.json")) {
                    Files.copy(s.companions().resolve(companion), dir.resolve(companion));
                }
                switch (family) {
                    case 0 -> bytes = m.bytes(bytes, 2048);
                    case 1 -> config = m.config(config);
                    case 2 -> bytes = m.safetensorsHeader(bytes);
                    default -> bytes = random.nextBoolean() ? m.bytes(bytes, bytes.length) : m.tensorData(bytes, 2048);
                }
                Files.writeString(dir.resolve("config.json"), config);
                Files.write(dir.resolve("model.safetensors"), bytes);
                return dir;
            }
        }
    }

    /** What generate does: open, encode a prompt, one forward pass, one sampled token, decode it. */
    private static void loadAndRun(FuzzSeeds.Kind kind, Path input, Path dir) {
        try (LoadedModel loaded = kind == FuzzSeeds.Kind.GGUF ? LoadedModel.open(input, LoadedModel.Device.CPU, 1)
                : LoadedModel.openLlama2c(input, dir.resolve("tokenizer.bin"), LoadedModel.Device.CPU, 1)) {
            Tokenizer tokenizer = loaded.tokenizer();
            int[] prompt = tokenizer.encode("Hello world, once upon a time \u00e9\u4e16", tokenizer.vocabulary().addBos(), false);
            if (prompt.length == 0) {
                return;
            }
            int context = Math.min(loaded.model().trainedContextLength(), 64);
            if (prompt.length >= context) {
                prompt = java.util.Arrays.copyOf(prompt, context - 1);
            }
            if (prompt.length == 0) {
                return;
            }
            try (var session = loaded.model().newSession(context)) {
                float[] logits = session.forward(prompt);
                int token = Sampler.create(SamplerConfig.defaults(), loaded.model().vocabSize()).sample(logits);
                tokenizer.decode(new int[] {token});
            }
        }
    }

    private static void convert(FuzzSeeds.Kind kind, Path input, Path dir, Path output, TargetType target) throws IOException {
        try (ModelSource source = switch (kind) {
            case GGUF -> new GgufSource(input);
            case LLAMA2C -> new Llama2cSource(input, dir.resolve("tokenizer.bin"));
            case SAFETENSORS -> new HfSource(input);
        }) {
            Converter.convert(source, QuantPolicy.forSource(source, target, null, null), output, (i, n, name, t, done, total) -> { });
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** {@code ModelFuzzer CASES [SEED [FIRST]]}: the long run; exit status 1 when a case failed. */
    public static void main(String[] args) throws Exception {
        long cases = args.length > 0 ? Long.parseLong(args[0]) : 100_000;
        long seed = args.length > 1 ? Long.parseLong(args[1]) : 20261203L;
        long first = args.length > 2 ? Long.parseLong(args[2]) : 0;
        Path data = Path.of(System.getProperty("panllm.data", "../shared/data"));
        Path work = Files.createTempDirectory("panllm-fuzz");
        Report r;
        try {
            ModelFuzzer fuzzer = new ModelFuzzer(data, work, seed, Long.getLong("panllm.fuzz.timeout.ms", 60_000));
            PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
            r = fuzzer.run(first, cases, out);
            r.print(out);
            out.flush();
        } finally {
            deleteTree(work);
        }
        System.exit(r.failures.isEmpty() ? 0 : 1); // after the clean-up: exit skips finally blocks
    }
}
