package io.panllm.cli;

import io.panllm.runtime.LoadedModel;
import io.panllm.runtime.PeakMemory;
import io.panllm.runtime.bench.Benchmark;
import io.panllm.runtime.model.LlamaModel;
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

    @Option(names = {"--parallel", "-npl"}, paramLabel = "P,P,...", split = ",",
            description = {"sequences decoding at once, as llama-batched-bench's -npl: per count, P sequences each with a",
                    "prompt of -p tokens generate -n tokens together; aggregate and per-sequence t/s"})
    int[] parallel;

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
            Benchmark.Options options = new Benchmark.Options(promptTokens, genTokens, repetitions, warmups, 42, batchSize);
            java.util.function.Consumer<String> log = verbose ? line -> { err.println(line); err.flush(); } : null;
            List<Benchmark.Result> results;
            if (parallel != null) {
                if (genTokens < 1) {
                    throw new IllegalArgumentException("--parallel needs -n of at least 1");
                }
                if (promptTokens + genTokens > trained) {
                    throw new IllegalArgumentException("-p + -n must be at most the model's context length " + trained);
                }
                for (int p : parallel) {
                    if (p < 1) {
                        throw new IllegalArgumentException("--parallel takes counts of at least 1, not " + p);
                    }
                }
                results = Benchmark.runParallel(loaded.model(), options, parallel, log);
            } else {
                results = Benchmark.run(loaded.model(), options, log);
            }
            long peakRss = PeakMemory.residentSetPeakBytes();
            String model = loaded.path().getFileName().toString();
            String description = loaded.model().description();
            long weightBytes = loaded.model() instanceof LlamaModel llama ? llama.weights().bytesReadPerPass() : -1;
            long peakGpu = loaded.peakGpuBytes();
            double copyBandwidth = loaded.copyBandwidth(); // after the tests and the peak: its buffers are not the model's
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
                    row.put("parallel", r.parallel());
                    row.put("aggregate_tok_s", r.meanTokensPerSecond());
                    row.put("per_sequence_tok_s", r.perSequenceTokensPerSecond());
                    if (weightBytes > 0) {
                        row.put("weight_bytes_per_token", Math.round(r.weightBytesPerToken(weightBytes)));
                        row.put("weight_gb_s", r.weightBytesPerSecond(weightBytes) / 1e9);
                    }
                    row.put("peak_rss_bytes", peakRss);
                    if (loaded.onGpu()) {
                        row.put("peak_gpu_bytes", parallel != null ? r.peakDeviceBytes() : peakGpu);
                        row.put("copy_gb_s", copyBandwidth / 1e9);
                        if (weightBytes > 0) {
                            row.put("share_of_copy_bw", r.weightBytesPerSecond(weightBytes) / copyBandwidth);
                        }
                    }
                    rows.add(row);
                }
                out.println(Json.write(rows));
            } else if (parallel != null) {
                boolean gpu = loaded.onGpu();
                out.println("| model | backend | test | parallel | aggregate t/s | per sequence t/s | ms/step | weights/token | GB/s"
                        + (gpu ? " | of copy BW | GPU memory |" : " |"));
                out.println("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---:" + (gpu ? " | ---: | ---: |" : " |"));
                for (Benchmark.Result r : results) {
                    out.printf("| %s | %s | %s | %d | %.2f ± %.2f | %.2f | %.3f | %s |%s%n", model, description, r.test(),
                            r.parallel(), r.meanTokensPerSecond(), r.stddevTokensPerSecond(), r.perSequenceTokensPerSecond(),
                            r.meanMsPerToken(), bandwidth(r, weightBytes, copyBandwidth),
                            gpu ? " " + Table.bytes(r.peakDeviceBytes()) + " |" : "");
                }
            } else {
                out.println("| model | backend | test | t/s | ms/token | weights/token | GB/s" + (loaded.onGpu() ? " | of copy BW |" : " |"));
                out.println("| --- | --- | --- | ---: | ---: | ---: | ---:" + (loaded.onGpu() ? " | ---: |" : " |"));
                for (Benchmark.Result r : results) {
                    out.printf("| %s | %s | %s | %.2f ± %.2f | %.3f | %s |%n", model, description, r.test(),
                            r.meanTokensPerSecond(), r.stddevTokensPerSecond(), r.meanMsPerToken(),
                            bandwidth(r, weightBytes, copyBandwidth));
                }
            }
            if (!format.equals("json")) {
                out.println();
                out.println("weights/token: weight bytes a forward pass reads, over the tokens sharing it (the prompt batch,"
                        + " 1 per generated token, the sequences of a parallel step); GB/s: those bytes per second" + (loaded.onGpu()
                        ? String.format(java.util.Locale.ROOT, "; of copy BW: of the device-to-device copy, %.0f GB/s",
                                copyBandwidth / 1e9) : ""));
                out.printf("%npeak resident memory: %s%n", Table.bytes(peakRss));
                if (loaded.onGpu()) {
                    out.printf("peak GPU memory: %s (weights, KV cache, activations; not the CUDA context)%n",
                            Table.bytes(peakGpu));
                }
            }
        }
        out.flush();
        return ExitCodes.OK;
    }

    /** "weights/token | GB/s" cells (and "of copy BW" where the copy bandwidth is known). */
    private static String bandwidth(Benchmark.Result r, long weightBytes, double copyBandwidth) {
        if (weightBytes <= 0) {
            return "- | -" + (Double.isNaN(copyBandwidth) ? "" : " | -");
        }
        double perSecond = r.weightBytesPerSecond(weightBytes);
        String cells = Table.bytes(Math.round(r.weightBytesPerToken(weightBytes)))
                + String.format(java.util.Locale.ROOT, " | %.2f", perSecond / 1e9);
        return Double.isNaN(copyBandwidth) ? cells
                : cells + String.format(java.util.Locale.ROOT, " | %.0f%%", 100 * perSecond / copyBandwidth);
    }
}
