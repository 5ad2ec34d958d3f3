package io.panllm.runtime.bench;

import io.panllm.runtime.LanguageModel;
import io.panllm.runtime.Session;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * llama-bench's two tests: pp N (one batch of N prompt tokens into an empty cache) and tg N
 * (N tokens generated one at a time into an empty cache), each repeated and reported as mean ±
 * standard deviation of tokens per second. Tokens are random ids, as llama-bench uses: speed does
 * not depend on which tokens they are.
 */
public final class Benchmark {

    /**
     * What to run. {@code promptTokens} or {@code genTokens} of 0 skips that test. {@code batchSize}
     * is llama-bench's -b: the prompt goes in forward passes of at most that many tokens (0: all
     * in one).
     */
    public record Options(int promptTokens, int genTokens, int repetitions, int warmups, long seed, int batchSize) {
        public Options {
            if (promptTokens < 0 || genTokens < 0 || repetitions < 1 || warmups < 0 || batchSize < 0) {
                throw new IllegalArgumentException("bench: -p, -n and -b must be >= 0 and -r >= 1");
            }
        }

        /** The whole prompt in one forward pass. */
        public Options(int promptTokens, int genTokens, int repetitions, int warmups, long seed) {
            this(promptTokens, genTokens, repetitions, warmups, seed, 0);
        }

        /** Tokens per forward pass of the prompt. */
        int promptBatch() {
            return batchSize == 0 ? promptTokens : Math.min(batchSize, promptTokens);
        }
    }

    /** One test's figures. */
    public record Result(String test, int tokens, int repetitions, double meanTokensPerSecond, double stddevTokensPerSecond,
                         double meanMsPerToken, List<Double> samplesTokensPerSecond) {
    }

    private Benchmark() {
    }

    /** Runs pp then tg; {@code onResult} is told after each test. */
    public static List<Result> run(LanguageModel model, Options options, Consumer<String> log) {
        List<Result> results = new ArrayList<>();
        SplittableRandom random = new SplittableRandom(options.seed());
        int context = Math.max(options.promptTokens(), options.genTokens()) + 1;
        try (Session session = model.newSession(context)) {
            if (options.promptTokens() > 0) {
                int batch = options.promptBatch();
                String test = "pp" + options.promptTokens() + (batch < options.promptTokens() ? " (batch " + batch + ")" : "");
                results.add(measure(test, options.promptTokens(), options, log, () -> {
                    session.rewind(0);
                    int[] tokens = randomTokens(random, options.promptTokens(), model.vocabSize());
                    long t0 = System.nanoTime();
                    for (int first = 0; first < tokens.length; first += batch) {
                        session.forward(java.util.Arrays.copyOfRange(tokens, first, Math.min(tokens.length, first + batch)));
                    }
                    return System.nanoTime() - t0;
                }));
            }
            if (options.genTokens() > 0) {
                results.add(measure("tg" + options.genTokens(), options.genTokens(), options, log, () -> {
                    session.rewind(0);
                    int token = random.nextInt(model.vocabSize());
                    long t0 = System.nanoTime();
                    for (int i = 0; i < options.genTokens(); i++) {
                        token = session.forwardGreedy(new int[] {token});
                    }
                    return System.nanoTime() - t0;
                }));
            }
        }
        return results;
    }

    private interface Timed {
        long nanos();
    }

    private static Result measure(String test, int tokens, Options options, Consumer<String> log, Timed body) {
        for (int i = 0; i < options.warmups(); i++) {
            body.nanos();
        }
        List<Double> samples = new ArrayList<>();
        for (int i = 0; i < options.repetitions(); i++) {
            long nanos = body.nanos();
            double tps = tokens / (nanos / 1e9);
            samples.add(tps);
            if (log != null) {
                log.accept(String.format("%s run %d/%d: %.2f tok/s", test, i + 1, options.repetitions(), tps));
            }
        }
        double mean = samples.stream().mapToDouble(Double::doubleValue).average().orElse(0);
        double var = samples.size() < 2 ? 0
                : samples.stream().mapToDouble(s -> (s - mean) * (s - mean)).sum() / (samples.size() - 1);
        return new Result(test, tokens, options.repetitions(), mean, Math.sqrt(var), 1000.0 / mean, List.copyOf(samples));
    }

    static int[] randomTokens(SplittableRandom random, int n, int vocab) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = random.nextInt(vocab);
        }
        return t;
    }
}
