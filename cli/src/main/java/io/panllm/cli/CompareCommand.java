package io.panllm.cli;

import io.panllm.runtime.LoadedModel;
import io.panllm.runtime.bench.Benchmark;
import io.panllm.runtime.compare.AtomicFiles;
import io.panllm.runtime.compare.CompareStudy;
import io.panllm.runtime.compare.FormatResult;
import io.panllm.runtime.compare.MarkdownReport;
import io.panllm.runtime.compare.ReportJson;
import io.panllm.runtime.compare.StudyFormat;
import io.panllm.runtime.compare.StudyProgress;
import io.panllm.runtime.compare.StudyResult;
import io.panllm.runtime.compare.StudySettings;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code panllm compare}: formats side by side, as a report folder. */
@Command(name = "compare", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Convert a model to several formats and measure each: file size, bits per",
                "weight, peak memory, perplexity on TEXT, KL divergence and top-1 agreement",
                "against the highest-precision type, prompt and generation speed. Writes",
                "report.md, report.json and PNG plots to the report folder.",
                "INPUT: a Hugging Face checkpoint, a GGUF file or a llama2.c checkpoint.",
                "Finished types are cached in DIR/cache (keyed by input, type and settings):",
                "a re-run, e.g. after Ctrl-C, measures only what is missing. Converted files",
                "and the KL base stay in DIR/work."},
        footer = {"", "Types: those of convert (f16 q8_0 q4_0 q4_k_m iq4_nl nf4 fp4 int8 ...; nf4, fp4",
                "and int8 (LLM.int8, row-wise) as panllm's extension types in bitsandbytes'",
                "layouts, run by their own kernels). KLD is measured against the type with the",
                "most bits per weight.",
                "", "Example:", "  panllm compare models/stories260K/stories260K_q80.bin -f wiki.test.raw \\",
                "      -c 128 --chunks 4 -o report"})
final class CompareCommand implements Callable<Integer> {
    private static final String DEFAULT_TYPES = "f16,q8_0,q4_0,q4_k_m,iq4_nl,nf4,fp4,int8";

    @Parameters(index = "0", arity = "0..1", paramLabel = "INPUT", description = "the model to convert and compare")
    Path input;

    @Option(names = "--types", paramLabel = "LIST", defaultValue = DEFAULT_TYPES, description = "comma-separated types (default: ${DEFAULT-VALUE})")
    String types;

    @Option(names = {"-f", "--file"}, paramLabel = "TEXT", description = "text for perplexity and KL divergence (e.g. wiki.test.raw)")
    Path textFile;

    @Option(names = "--render", paramLabel = "DIR", description = "measure nothing: draw report.md and the plots again from "
            + "DIR/report.json (e.g. a study measured where Java cannot draw)")
    Path renderDir;

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N", defaultValue = "512", description = "tokens per perplexity chunk (default: ${DEFAULT-VALUE})")
    @Range(min = 3)
    int contextSize;

    @Option(names = "--chunks", paramLabel = "N", defaultValue = "-1", description = "evaluate at most N chunks (default: all)")
    @Range(min = 1, also = -1)
    int chunks;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR", defaultValue = "compare-report", description = "report folder (default: ${DEFAULT-VALUE})")
    Path reportDir;

    @Option(names = {"-p", "--n-prompt"}, paramLabel = "N", defaultValue = "64", description = "bench: prompt tokens, 0 skips pp (default: ${DEFAULT-VALUE})")
    @Range(min = 0)
    int promptTokens;

    @Option(names = {"-n", "--n-gen"}, paramLabel = "N", defaultValue = "32", description = "bench: generated tokens, 0 skips tg (default: ${DEFAULT-VALUE})")
    @Range(min = 0)
    int genTokens;

    @Option(names = {"-r", "--repetitions"}, paramLabel = "N", defaultValue = "2", description = "bench: repetitions (default: ${DEFAULT-VALUE})")
    @Range(min = 1)
    int repetitions;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "1", description = "bench: warm-up runs per test (default: ${DEFAULT-VALUE})")
    @Range(min = 0)
    int warmups;

    @Option(names = "--device", paramLabel = "DEV", defaultValue = "auto", description = "cpu, cuda or auto (default: ${DEFAULT-VALUE})")
    String device;

    @Mixin
    ThreadsOption threads;

    @Option(names = "--from", paramLabel = "FORMAT", description = "input format: hf, llama2c or gguf (default: detected)")
    String from;

    @Option(names = "--vocab", paramLabel = "FILE", description = "tokenizer.bin for a llama2.c checkpoint (default: beside it)")
    Path vocab;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (renderDir != null) {
            return render(renderDir);
        }
        if (input == null || textFile == null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "compare needs INPUT and -f TEXT (or --render DIR)");
        }
        List<StudyFormat> formats = StudyFormat.parseList(types);
        TextFiles.readUtf8(textFile); // a missing or non-UTF-8 text fails here, before any work
        ModelFiles.detect(input); // a missing or unknown input fails here, before any work
        OutputPaths.refuseInputsInside("-o", reportDir, input, textFile, vocab);
        StudySettings settings = new StudySettings(input, textFile, contextSize, chunks,
                new Benchmark.Options(promptTokens, genTokens, repetitions, warmups, 42), LoadedModel.Device.parse(device), threads.threads);
        PrintWriter err = spec.commandLine().getErr();
        CompareStudy study = new CompareStudy(() -> Sources.open(input, from, vocab), settings, formats, reportDir);
        err.printf("comparing %s: %s -> %s%n", input, formats.stream().map(StudyFormat::label).collect(Collectors.joining(", ")), reportDir);
        err.flush();
        ProgressBar bar = new ProgressBar("compare");
        Interrupts.install(() -> { });
        StudyResult result;
        try {
            long start = System.nanoTime();
            result = study.run(new CompareStudy.Listener() {
                StudyProgress last;

                @Override
                public void progress(StudyProgress p) {
                    last = p;
                    if (Interrupts.requested()) {
                        throw new CancellationException("interrupted");
                    }
                    bar.update(p.fraction(), 1, String.format(Locale.ROOT, "%d/%d %s %s: %s", p.index() + 1, p.count(), p.format(),
                            p.step(), p.detail()));
                }

                @Override
                public void finished(FormatResult r, boolean fromCache) {
                    bar.close();
                    err.println(summary(r, fromCache) + (fromCache || last == null ? "" : eta(last, start)));
                    err.flush();
                }
            });
        } catch (CancellationException e) {
            bar.close();
            err.println("panllm compare: interrupted; finished types are cached in " + reportDir.resolve("cache")
                    + " (run the same command again to go on); no report written");
            return ExitCodes.INTERRUPTED;
        }
        writeReport(result, commandLine(), reportDir, true);
        return ExitCodes.OK;
    }

    /** {@code --render DIR}: report.md and the plots from DIR/report.json. */
    private int render(Path dir) throws IOException {
        Path json = dir.resolve("report.json");
        if (!Files.isRegularFile(json)) {
            throw new BadInputException(json + ": no such file (--render takes the folder of a compare report)");
        }
        ReportJson.Report report;
        try {
            report = ReportJson.read(json);
        } catch (IOException e) {
            throw new BadInputException(e.getMessage());
        }
        writeReport(report.study(), report.commandLine(), dir, false);
        return ExitCodes.OK;
    }

    private void writeReport(StudyResult result, String commandLine, Path reportDir, boolean writeJson) throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<MarkdownReport.Plot> plots;
        try {
            plots = ComparePlots.write(result, reportDir);
        } catch (VirtualMachineError e) {
            throw e;
        } catch (Error | RuntimeException e) {
            // A Java runtime without the java.desktop module (a jlink image: NoClassDefFoundError),
            // or a machine without fonts (AWT throws "Fontconfig head is null", or a plain
            // java.lang.Error "No physical fonts found"), cannot draw: the tables say everything.
            err.println("panllm compare: no plots (this Java runtime cannot draw here: " + e.getMessage() + ")");
            plots = List.of();
        }
        if (writeJson) {
            AtomicFiles.write(reportDir.resolve("report.json"), Json.write(result.toMap(commandLine)).getBytes(StandardCharsets.UTF_8));
        }
        AtomicFiles.write(reportDir.resolve("report.md"),
                MarkdownReport.render(result, commandLine, plots).getBytes(StandardCharsets.UTF_8));
        out.println("wrote " + reportDir.resolve("report.md") + (writeJson ? ", report.json" : "") + " and " + plots.size() + " plots");
        out.flush();
    }

    /** After a measured type: the time the remaining ones will take at the pace so far. */
    private static String eta(StudyProgress last, long startNanos) {
        int done = last.index() + 1;
        if (done >= last.count()) {
            return "";
        }
        double elapsed = (System.nanoTime() - startNanos) / 1e9;
        return String.format(Locale.ROOT, "; %d more, ETA %s", last.count() - done, ProgressBar.clock(elapsed / done * (last.count() - done)));
    }

    /** One line per type: what it measured, or why not. */
    private static String summary(FormatResult r, boolean fromCache) {
        String name = String.format(Locale.ROOT, "%-8s", r.format());
        return switch (r.status()) {
            case FAILED -> name + " failed: " + r.error();
            case MEASURED -> String.format(Locale.ROOT, "%s %s, %.2f bpw, PPL %s, KLD %s, tg %s tok/s (%s)", name,
                    MarkdownReport.bytes(r.fileBytes()), r.bitsPerWeight(),
                    r.perplexity() == null ? "-" : String.format(Locale.ROOT, "%.4f", r.perplexity()),
                    r.meanKld() == null ? "-" : String.format(Locale.ROOT, "%.4g", r.meanKld()),
                    r.genTokensPerSecond() == null ? "-" : String.format(Locale.ROOT, "%.1f", r.genTokensPerSecond()),
                    fromCache ? "cached" : ProgressBar.clock(r.seconds()));
        };
    }

    /** The command as typed, for the report (arguments with spaces quoted). */
    private String commandLine() {
        return "panllm " + spec.commandLine().getParseResult().originalArgs().stream()
                .map(a -> a.isEmpty() || a.matches(".*[\\s'\"$].*") ? "'" + a.replace("'", "'\\''") + "'" : a)
                .collect(Collectors.joining(" "));
    }
}
