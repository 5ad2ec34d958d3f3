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

    /**
     * One test's figures. Tokens per second are aggregate (all sequences together); {@code
     * parallel} sequences ran at once (1 but for {@link #runParallel}), {@code tokensPerPass}
     * tokens shared each read of the weights (the prompt batch, 1 for tg, the sequences of a
     * parallel step), and {@code peakDeviceBytes} is the most GPU memory held during the test.
     */
    public record Result(String test, int tokens, int repetitions, double meanTokensPerSecond, double stddevTokensPerSecond,
                         double meanMsPerToken, List<Double> samplesTokensPerSecond, int parallel, int tokensPerPass,
                         long peakDeviceBytes) {

        /** Tokens per second of each sequence (the aggregate over {@code parallel}). */
        public double perSequenceTokensPerSecond() {
            return meanTokensPerSecond / parallel;
        }

        /** Weight bytes read per token when a forward pass reads {@code weightBytesPerPass} once for all its tokens. */
        public double weightBytesPerToken(long weightBytesPerPass) {
            return (double) weightBytesPerPass / tokensPerPass;
        }

        /** Weight bytes read per second at the measured speed. */
        public double weightBytesPerSecond(long weightBytesPerPass) {
            return weightBytesPerToken(weightBytesPerPass) * meanTokensPerSecond;
        }
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
                results.add(measure(test, options.promptTokens(), 1, batch, options, log, () -> {
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
                results.add(measure("tg" + options.genTokens(), options.genTokens(), 1, 1, options, log, () -> {
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

    /**
     * llama-batched-bench's test: for each count P in {@code parallel}, P sequences each holding a
     * prompt of {@code promptTokens} random tokens (processed one sequence after another, not
     * timed) generate {@code genTokens} tokens together, one batched greedy step per token for
     * all of them ({@link LanguageModel#decodeBatchGreedy}). One result per P: aggregate tok/s
     * (P x genTokens / time), per sequence in {@link Result#perSequenceTokensPerSecond()}.
     */
    public static List<Result> runParallel(LanguageModel model, Options options, int[] parallel, Consumer<String> log) {
        if (options.genTokens() < 1) {
            throw new IllegalArgumentException("bench --parallel needs -n of at least 1");
        }
        List<Result> results = new ArrayList<>();
        SplittableRandom random = new SplittableRandom(options.seed());
        int depth = options.promptTokens();
        String test = "tg" + options.genTokens() + (depth > 0 ? " @ d" + depth : "");
        for (int count : parallel) {
            if (count < 1) {
                throw new IllegalArgumentException("bench --parallel: sequence counts must be at least 1, not " + count);
            }
            List<Session> sessions = new ArrayList<>();
            try {
                io.panllm.kernels.DeviceMemoryUse.resetPeak();
                for (int i = 0; i < count; i++) {
                    Session s = model.newSession(depth + options.genTokens());
                    sessions.add(s);
                    if (depth > 0) {
                        int[] prompt = randomTokens(random, depth, model.vocabSize());
                        for (int first = 0; first < depth; first += options.promptBatch()) {
                            s.forward(java.util.Arrays.copyOfRange(prompt, first, Math.min(depth, first + options.promptBatch())));
                        }
                    }
                }
                results.add(measure(test, count * options.genTokens(), count, count, options, log, () -> {
                    int[] tokens = randomTokens(random, count, model.vocabSize());
                    for (Session s : sessions) {
                        s.rewind(depth);
                    }
                    long t0 = System.nanoTime();
                    for (int step = 0; step < options.genTokens(); step++) {
                        tokens = model.decodeBatchGreedy(sessions, tokens);
                    }
                    return System.nanoTime() - t0;
                }));
            } finally {
                sessions.forEach(Session::close);
            }
        }
        return results;
    }

    private interface Timed {
        long nanos();
    }

    private static Result measure(String test, int tokens, int parallel, int tokensPerPass, Options options,
            Consumer<String> log, Timed body) {
        for (int i = 0; i < options.warmups(); i++) {
            body.nanos();
        }
        List<Double> samples = new ArrayList<>();
        for (int i = 0; i < options.repetitions(); i++) {
            long nanos = body.nanos();
            double tps = tokens / (nanos / 1e9);
            samples.add(tps);
            if (log != null) {
                log.accept(String.format("%s%s run %d/%d: %.2f tok/s", test, parallel > 1 ? " x" + parallel : "", i + 1,
                        options.repetitions(), tps));
            }
        }
        double mean = samples.stream().mapToDouble(Double::doubleValue).average().orElse(0);
        double var = samples.size() < 2 ? 0
                : samples.stream().mapToDouble(s -> (s - mean) * (s - mean)).sum() / (samples.size() - 1);
        return new Result(test, tokens, options.repetitions(), mean, Math.sqrt(var), 1000.0 * parallel / mean,
                List.copyOf(samples), parallel, tokensPerPass, io.panllm.kernels.DeviceMemoryUse.peakBytes());
    }

    static int[] randomTokens(SplittableRandom random, int n, int vocab) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = random.nextInt(vocab);
        }
        return t;
    }
}
