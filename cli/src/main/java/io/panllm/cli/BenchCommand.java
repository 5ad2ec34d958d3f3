package io.panllm.cli;

import io.panllm.runtime.LoadedModel;
import io.panllm.runtime.PeakMemory;
import io.panllm.runtime.bench.Benchmark;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code panllm bench}: llama-bench's pp and tg figures. */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Measure prompt processing (pp: one batch of -p tokens) and generation (tg: -n tokens one by one),",
                "like llama-bench: mean ± stddev of tok/s over -r repetitions after a warm-up, ms/token, peak memory."})
final class BenchCommand implements Callable<Integer> {

    @Mixin
    ModelOptions modelOptions;

    @Option(names = {"-p", "--n-prompt"}, paramLabel = "N", defaultValue = "512", description = "prompt tokens, 0 skips pp (default: ${DEFAULT-VALUE})")
    @Range(min = 0)
    int promptTokens;

    @Option(names = {"-b", "--batch-size", "--batch"}, paramLabel = "B", defaultValue = "0",
            description = "prompt tokens per forward pass, as llama-bench's -b (default: the whole prompt at once)")
    @Range(min = 0)
    int batchSize;

    @Option(names = {"-n", "--n-gen"}, paramLabel = "N", defaultValue = "128", description = "generated tokens, 0 skips tg (default: ${DEFAULT-VALUE})")
    @Range(min = 0)
    int genTokens;

    @Option(names = {"-r", "--repetitions"}, paramLabel = "N", defaultValue = "5", description = "repetitions (default: ${DEFAULT-VALUE})")
    @Range(min = 1)
    int repetitions;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "1", description = "warm-up runs per test (default: ${DEFAULT-VALUE})")
    @Range(min = 0)
    int warmups;

    @Option(names = {"-o", "--output"}, paramLabel = "FMT", defaultValue = "md", description = "md or json (default: ${DEFAULT-VALUE})")
    String format;

    @Option(names = {"-v", "--verbose"}, description = "print each repetition on stderr")
    boolean verbose;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (!format.equals("md") && !format.equals("json")) {
            throw new IllegalArgumentException("-o must be md or json, not '" + format + "'");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (LoadedModel loaded = modelOptions.open()) {
            int trained = loaded.model().trainedContextLength();
            if (Math.max(promptTokens, genTokens) >= trained) {
                throw new IllegalArgumentException("-p/-n must be below the model's context length " + trained);
            }
            List<Benchmark.Result> results = Benchmark.run(loaded.model(),
                    new Benchmark.Options(promptTokens, genTokens, repetitions, warmups, 42, batchSize),
                    verbose ? line -> { err.println(line); err.flush(); } : null);
            long peakRss = PeakMemory.residentSetPeakBytes();
            String model = loaded.path().getFileName().toString();
            String description = loaded.model().description();
            if (format.equals("json")) {
                List<Map<String, Object>> rows = new ArrayList<>();
                for (Benchmark.Result r : results) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("model", model);
                    row.put("description", description);
                    row.put("test", r.test());
                    row.put("tokens", r.tokens());
                    row.put("repetitions", r.repetitions());
                    row.put("avg_ts", r.meanTokensPerSecond());
                    row.put("stddev_ts", r.stddevTokensPerSecond());
                    row.put("avg_ms_per_token", r.meanMsPerToken());
                    row.put("samples_ts", r.samplesTokensPerSecond());
                    row.put("peak_rss_bytes", peakRss);
                    if (loaded.onGpu()) {
                        row.put("peak_gpu_bytes", loaded.peakGpuBytes());
                    }
                    rows.add(row);
                }
                out.println(Json.write(rows));
            } else {
                out.println("| model | backend | test | t/s | ms/token |");
                out.println("| --- | --- | --- | ---: | ---: |");
                for (Benchmark.Result r : results) {
                    out.printf("| %s | %s | %s | %.2f ± %.2f | %.3f |%n", model, description, r.test(),
                            r.meanTokensPerSecond(), r.stddevTokensPerSecond(), r.meanMsPerToken());
                }
                out.printf("%npeak resident memory: %s%n", Table.bytes(peakRss));
                if (loaded.onGpu()) {
                    out.printf("peak GPU memory: %s (weights, KV cache, activations; not the CUDA context)%n",
                            Table.bytes(loaded.peakGpuBytes()));
                }
            }
        }
        out.flush();
        return ExitCodes.OK;
    }
}
