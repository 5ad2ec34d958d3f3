package io.panllm.runtime.compare;

import io.panllm.runtime.PeakMemory;
import io.panllm.runtime.LoadedModel;
import io.panllm.runtime.bench.Benchmark;
import io.panllm.runtime.convert.Converter;
import io.panllm.runtime.convert.ModelSource;
import io.panllm.runtime.convert.QuantPolicy;
import io.panllm.runtime.eval.KlDivergence;
import io.panllm.runtime.eval.KldOptions;
import io.panllm.runtime.eval.KldResult;
import io.panllm.runtime.eval.NotEnoughTokensException;
import io.panllm.runtime.eval.Perplexity;
import io.panllm.runtime.eval.PerplexityOptions;
import io.panllm.runtime.eval.PerplexityResult;
import io.panllm.runtime.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CancellationException;

/**
 * Puts formats side by side: each is produced from the input with the same code as
 * {@code panllm convert} (Converter + QuantPolicy; NF4 and FP4 as panllm's extension types), then
 * loaded and measured: size and bits per weight, perplexity on a text (exactly as {@code panllm
 * perplexity} computes it), KL divergence and top-1 agreement against the highest-precision format
 * (llama.cpp's two-step method, base file first), prompt and generation speed ({@link Benchmark}),
 * peak memory.
 *
 * <p>Converted files and the KL base live in {@code work/} of the report folder; each finished
 * format is cached in {@code cache/} so that a re-run (after Ctrl-C, or with more types) measures
 * only what is missing. A format that cannot run records its error and the study goes on.
 */
public final class CompareStudy {

    /** Opens the input as a conversion source; called once per conversion. */
    @FunctionalInterface
    public interface SourceOpener {
        ModelSource open() throws Exception;
    }

    /**
     * Told as the study goes (on the study's thread). Throwing {@link CancellationException} from
     * {@link #progress} stops the study: finished formats stay cached, nothing half-written is left.
     */
    public interface Listener {
        void progress(StudyProgress progress);

        /** A format is done (measured now, reused from the cache, failed, or not runnable). */
        void finished(FormatResult result, boolean fromCache);
    }

    private static final String[] STEPS = {"convert", "perplexity", "kl-divergence", "bench"};

    private final SourceOpener sourceOpener;
    private final StudySettings settings;
    private final List<StudyFormat> formats;
    private final StudyFormat base;
    private final Path workDir;
    private final ResultCache cache;
    private final String modelName;

    private int[] tokens;
    private Tokenizer tokenizer;
    private boolean randomWeights;
    /** The base failed (now, or when rebuilding its logits): the others get no KLD instead of retrying it. */
    private boolean baseUnavailable;
    private boolean peakMemoryPerFormat = true;

    /**
     * @param reportDir where {@code cache/} and {@code work/} go (created when missing)
     */
    public CompareStudy(SourceOpener sourceOpener, StudySettings settings, List<StudyFormat> formats, Path reportDir) {
        this.sourceOpener = sourceOpener;
        this.settings = settings;
        this.formats = List.copyOf(formats);
        this.base = StudyFormat.highestPrecision(formats);
        this.workDir = reportDir.resolve("work");
        this.cache = new ResultCache(reportDir.resolve("cache"));
        this.modelName = settings.input().toAbsolutePath().normalize().getFileName().toString().replaceFirst("\\.(gguf|bin)$", "");
    }

    /** The converted file of a format (kept in the work folder for checks and re-runs). */
    public Path modelFile(StudyFormat format) {
        return workDir.resolve(modelName + "-" + format.label() + ".gguf");
    }

    /**
     * The KL-divergence base file: named after its key, so a file from other settings is never
     * reused. Null when no format can run.
     */
    public Path baseLogitsFile() {
        if (base == null) {
            return null;
        }
        String key = settings.cacheKey(base, base.label()).toString();
        return workDir.resolve(String.format(Locale.ROOT, "kld-base-%s-%08x.bin", base.label(), key.hashCode()));
    }

    /**
     * Measures every format not cached yet, in the order given except that the base goes first.
     *
     * @throws CancellationException when the listener cancels
     * @throws IllegalArgumentException for settings the model cannot take (-c above its context)
     * @throws NotEnoughTokensException when the text is shorter than two chunks
     */
    public StudyResult run(Listener listener) throws IOException {
        Files.createDirectories(workDir);
        String baseLabel = base == null ? null : base.label();
        Map<String, FormatResult> results = new HashMap<>();
        List<String> cached = new ArrayList<>();
        List<StudyFormat> toMeasure = new ArrayList<>();
        for (StudyFormat format : formats) {
            var hit = cache.find(format.label(), settings.cacheKey(format, baseLabel));
            if (hit.isPresent()) {
                results.put(format.label(), hit.get());
                cached.add(format.label());
                randomWeights |= hit.get().randomWeights();
            } else if (format == base) {
                toMeasure.addFirst(format);
            } else {
                toMeasure.add(format);
            }
        }
        for (StudyFormat format : formats) {
            FormatResult r = results.get(format.label());
            if (r != null) {
                listener.finished(r, cached.contains(format.label()));
            }
        }
        if (!toMeasure.isEmpty()) {
            checkSourceOpens();
        }
        for (int i = 0; i < toMeasure.size(); i++) {
            StudyFormat format = toMeasure.get(i);
            FormatResult r = measure(format, new Steps(listener, i, toMeasure.size(), format.label()));
            if (r.status() == FormatResult.Status.MEASURED) {
                cache.store(format.label(), settings.cacheKey(format, baseLabel), r);
            }
            results.put(format.label(), r);
            listener.finished(r, false);
        }
        List<FormatResult> ordered = formats.stream().map(f -> results.get(f.label())).toList();
        return new StudyResult(settings, MachineInfo.detect(), baseLabel, ordered, cached, randomWeights,
                peakMemoryPerFormat, Instant.now());
    }

    /** An input that cannot be opened at all fails the study at once, not once per format. */
    private void checkSourceOpens() throws IOException {
        try (ModelSource source = sourceOpener.open()) {
            source.tensors();
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** Reports a format's steps as a fraction of the whole run. */
    private record Steps(Listener listener, int index, int count, String format) {
        void report(int step, double stepFraction, String detail) {
            double fraction = (index + (step + Math.min(1, stepFraction)) / STEPS.length) / count;
            listener.progress(new StudyProgress(index, count, format, STEPS[step], detail, fraction));
        }
    }

    /** The figures of one format as they are measured; what a failure leaves is kept. */
    private static final class Measurement {
        final StudyFormat format;
        FormatResult.Status status = FormatResult.Status.MEASURED;
        String error;
        String file;
        ModelFileStats stats;
        String description;
        boolean random;
        PerplexityResult perplexity;
        Double meanKld;
        Double meanKldError;
        Double sameTop;
        Double sameTopError;
        Benchmark.Result prompt;
        Benchmark.Result gen;
        Long peakGpuBytes;

        Measurement(StudyFormat format) {
            this.format = format;
        }

        FormatResult toResult(long peakRss, double seconds) {
            return new FormatResult(format.label(), status, error, file,
                    stats == null ? null : stats.fileBytes(), stats == null ? null : stats.parameters(),
                    stats == null ? null : stats.bitsPerWeight(), stats == null ? null : finiteOrNull(stats.linearBitsPerWeight()),
                    stats == null ? null : stats.parametersPerType(), description, random,
                    perplexity == null ? null : perplexity.perplexity(), perplexity == null ? null : perplexity.standardError(),
                    meanKld, meanKldError, sameTop, sameTopError,
                    prompt == null ? null : prompt.meanTokensPerSecond(), prompt == null ? null : prompt.stddevTokensPerSecond(),
                    gen == null ? null : gen.meanTokensPerSecond(), gen == null ? null : gen.stddevTokensPerSecond(),
                    peakRss, peakGpuBytes, seconds);
        }
    }

    private static Double finiteOrNull(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private FormatResult measure(StudyFormat format, Steps steps) throws IOException {
        long start = System.nanoTime();
        peakMemoryPerFormat &= PeakMemory.reset();
        io.panllm.kernels.DeviceMemoryUse.resetPeak();
        Measurement m = new Measurement(format);
        String step = "convert";
        try {
            Path file = convert(format, steps);
            m.file = file.getFileName().toString();
            m.stats = ModelFileStats.of(file);
            step = "load";
            try (LoadedModel loaded = LoadedModel.open(file, settings.device(), settings.threads())) {
                m.description = loaded.model().description();
                m.random = loaded.randomWeights();
                randomWeights |= m.random;
                if (!m.random) {
                    step = "perplexity";
                    measureAccuracy(loaded, m, steps);
                }
                step = "bench";
                measureSpeed(loaded, m, steps);
                m.peakGpuBytes = loaded.onGpu() ? loaded.peakGpuBytes() : null;
            }
        } catch (CancellationException | IllegalArgumentException | NotEnoughTokensException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            m.status = FormatResult.Status.FAILED;
            m.error = step + ": " + message(e);
            baseUnavailable |= format == base;
        }
        return m.toResult(PeakMemory.residentSetPeakBytes(), (System.nanoTime() - start) / 1e9);
    }

    private static String message(Throwable e) {
        Throwable t = e instanceof UncheckedIOException u && u.getCause() != null ? u.getCause() : e;
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getSimpleName() : m.lines().findFirst().orElse(m);
    }

    /** Writes the format's GGUF with convert's policy (NF4/FP4 as panllm extension types). */
    private Path convert(StudyFormat format, Steps steps) throws IOException {
        Path file = modelFile(format);
        steps.report(0, 0, "converting");
        try (ModelSource source = sourceOpener.open()) {
            QuantPolicy policy = QuantPolicy.forSource(source, format.target(), null, null);
            Converter.convert(source, policy, file, (i, n, name, type, done, total) ->
                    steps.report(0, total == 0 ? 1 : (double) done / total, String.format(Locale.ROOT, "tensor %d/%d", i + 1, n)));
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e.getMessage(), e);
        }
        return file;
    }

    private void measureAccuracy(LoadedModel loaded, Measurement m, Steps steps) throws IOException {
        if (settings.contextSize() > loaded.model().trainedContextLength()) {
            throw new IllegalArgumentException("-c " + settings.contextSize() + " is larger than the model's context length "
                    + loaded.model().trainedContextLength());
        }
        int[] text = tokens(loaded);
        boolean addBos = tokenizer.vocabulary().addBos();
        PerplexityOptions options = new PerplexityOptions(settings.contextSize(), settings.chunks(), addBos, tokenizer.bos());
        m.perplexity = Perplexity.run(loaded.model(), text, options, (chunk, chunks, ppl) ->
                steps.report(1, (double) chunk / chunks, String.format(Locale.ROOT, "chunk %d/%d PPL %.4f", chunk, chunks, ppl)));
        if (m.format == base) {
            KlDivergence.writeBase(loaded.model(), text, options, baseLogitsFile(), (chunk, chunks, ppl) ->
                    steps.report(2, (double) chunk / chunks, String.format(Locale.ROOT, "base chunk %d/%d", chunk, chunks)));
            m.meanKld = 0.0;
            m.meanKldError = 0.0;
            m.sameTop = 1.0;
            m.sameTopError = 0.0;
            return;
        }
        if (base == null || baseUnavailable || !Files.isRegularFile(baseLogitsFile()) && !rebuildBase(steps)) {
            return; // the base failed: its row says why, the KLD columns stay empty
        }
        KldResult kld = KlDivergence.compare(loaded.model(), baseLogitsFile(), new KldOptions(settings.chunks(), addBos, tokenizer.bos()),
                p -> steps.report(2, (double) p.chunk() / p.chunks(), String.format(Locale.ROOT, "chunk %d/%d KLD %.5f",
                        p.chunk(), p.chunks(), p.kld().value())));
        m.meanKld = kld.meanKld().value();
        m.meanKldError = kld.meanKld().uncertainty();
        m.sameTop = kld.sameTop().value();
        m.sameTopError = kld.sameTop().uncertainty();
    }

    /**
     * The base was reused from the cache but its logits file is gone (deleted work folder): convert
     * and evaluate it again. False when the base cannot run.
     */
    private boolean rebuildBase(Steps steps) throws IOException {
        try {
            Path file = convert(base, steps);
            try (LoadedModel loaded = LoadedModel.open(file, settings.device(), settings.threads())) {
                int[] text = tokens(loaded);
                PerplexityOptions options = new PerplexityOptions(settings.contextSize(), settings.chunks(),
                        tokenizer.vocabulary().addBos(), tokenizer.bos());
                KlDivergence.writeBase(loaded.model(), text, options, baseLogitsFile(), (chunk, chunks, ppl) ->
                        steps.report(2, 0, String.format(Locale.ROOT, "rebuilding the %s base, chunk %d/%d", base.label(), chunk, chunks)));
            }
            return true;
        } catch (RuntimeException e) {
            if (e instanceof CancellationException) {
                throw e;
            }
            baseUnavailable = true;
            return false;
        }
    }

    /** The text's tokens, tokenized once (every format shares the input's tokenizer) as {@code perplexity} does. */
    private int[] tokens(LoadedModel loaded) throws IOException {
        if (tokens == null) {
            tokenizer = loaded.tokenizer();
            String text = Files.readString(settings.text(), StandardCharsets.UTF_8);
            tokens = tokenizer.encode(text, tokenizer.vocabulary().addBos(), false);
        }
        return tokens;
    }

    private void measureSpeed(LoadedModel loaded, Measurement m, Steps steps) {
        Benchmark.Options options = settings.bench();
        int runs = (options.promptTokens() > 0 ? 1 : 0) + (options.genTokens() > 0 ? 1 : 0);
        int[] done = {0};
        steps.report(3, 0, "warm-up");
        List<Benchmark.Result> results = Benchmark.run(loaded.model(), options, line -> {
            done[0]++;
            steps.report(3, (double) done[0] / Math.max(1, runs * options.repetitions()), line);
        });
        for (Benchmark.Result r : results) {
            if (r.test().startsWith("pp")) {
                m.prompt = r;
            } else {
                m.gen = r;
            }
        }
    }
}
