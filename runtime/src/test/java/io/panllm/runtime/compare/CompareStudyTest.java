package io.panllm.runtime.compare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.panllm.runtime.LoadedModel;
import io.panllm.runtime.bench.Benchmark;
import io.panllm.gguf.GgufValue;
import io.panllm.runtime.convert.Llama2cSource;
import io.panllm.runtime.convert.ModelSource;
import io.panllm.runtime.convert.RandomInit;
import io.panllm.runtime.convert.SourceTensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The study on convert's tiny random model: random weights, caching, cancellation, the report. */
class CompareStudyTest {

    /** Records what the study tells. */
    private static final class Recorder implements CompareStudy.Listener {
        final List<StudyProgress> progress = new ArrayList<>();
        final List<String> finished = new ArrayList<>();
        final List<String> cached = new ArrayList<>();
        int cancelAfter = Integer.MAX_VALUE;

        @Override
        public void progress(StudyProgress p) {
            progress.add(p);
            if (progress.size() > cancelAfter) {
                throw new CancellationException("test");
            }
        }

        @Override
        public void finished(FormatResult result, boolean fromCache) {
            (fromCache ? cached : finished).add(result.format());
        }
    }

    private static StudySettings settings(Path dir) throws Exception {
        Path input = dir.resolve("tiny-random");
        Files.writeString(input, "stands for RandomInit(tiny, 7) in the cache key");
        Path text = Path.of(System.getProperty("panllm.data"), "wikitext-2/wiki.test.raw");
        return new StudySettings(input, text, 64, 2, new Benchmark.Options(8, 4, 1, 0, 42), LoadedModel.Device.CPU, 1);
    }

    private static CompareStudy study(Path dir, StudySettings settings, String types) {
        return new CompareStudy(() -> new RandomInit(RandomInit.Shape.TINY, 7, null), settings, StudyFormat.parseList(types),
                dir.resolve("report"));
    }

    @Test
    void randomWeightsSkipAccuracyMeasureSpeedAndAreCachedForTheNextRun(@TempDir Path dir) throws Exception {
        StudySettings settings = settings(dir);
        Recorder first = new Recorder();
        StudyResult result = study(dir, settings, "q8_0,f16,q4_0,int8").run(first);

        assertThat(result.randomWeights()).isTrue();
        assertThat(result.base()).isEqualTo("f16");
        assertThat(first.finished).containsExactly("f16", "q8_0", "q4_0", "int8"); // the base first
        assertThat(result.results()).extracting(FormatResult::format).containsExactly("q8_0", "f16", "q4_0", "int8");
        for (FormatResult r : result.results()) {
            assertThat(r.status()).as(r.format() + ": " + r.error()).isEqualTo(FormatResult.Status.MEASURED);
            assertThat(r.randomWeights()).isTrue();
            assertThat(r.perplexity()).isNull();
            assertThat(r.meanKld()).isNull();
            assertThat(r.promptTokensPerSecond()).isPositive();
            assertThat(r.genTokensPerSecond()).isPositive();
            assertThat(r.fileBytes()).isEqualTo(Files.size(dir.resolve("report/work/tiny-random-" + r.format() + ".gguf")));
        }
        FormatResult f16 = result.results().get(1);
        FormatResult q4 = result.results().get(2);
        assertThat(f16.linearBitsPerWeight()).isEqualTo(16.0);
        assertThat(q4.linearBitsPerWeight()).isEqualTo(4.5); // Q4_0: 18 bytes per 32 weights
        assertThat(q4.bitsPerWeight()).isGreaterThan(4.5).isLessThan(f16.bitsPerWeight());
        FormatResult int8 = result.results().get(3);
        // LLM.int8: one byte per weight plus a float32 absmax per output row: per tiny layer 49152
        // weights in 640 rows (q 64, k 32, v 32, output 64, gate 192, up 192, down 64)
        assertThat(int8.linearBitsPerWeight()).isCloseTo(8.0 + 32.0 * 640 / 49152, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(int8.parametersPerType()).containsKey("I8").doesNotContainKey("I32");
        assertThat(int8.peakGpuBytes()).isNull(); // on the CPU
        assertThat(first.progress).isNotEmpty().allSatisfy(p -> assertThat(p.fraction()).isBetween(0.0, 1.0));
        assertThat(first.progress.getLast().fraction()).isEqualTo(1.0);

        String md = MarkdownReport.render(result, "panllm compare test", List.of(new MarkdownReport.Plot("speed.png", "speed")));
        assertThat(md).contains("random weights").contains("| f16 (base) |").contains("| int8 |").doesNotContain("peak GPU memory")
                .contains("![speed](speed.png)").contains("panllm compare test").contains("tg4 tok/s");

        Recorder second = new Recorder();
        StudyResult again = study(dir, settings, "f16,q8_0,q4_0,int8").run(second);
        assertThat(second.cached).containsExactly("f16", "q8_0", "q4_0", "int8");
        assertThat(second.finished).isEmpty();
        assertThat(second.progress).isEmpty();
        assertThat(again.results().get(2)).isEqualTo(q4);
    }

    @Test
    void otherSettingsOrAnotherBaseMeasureAgain(@TempDir Path dir) throws Exception {
        StudySettings settings = settings(dir);
        study(dir, settings, "q4_0").run(new Recorder());
        Recorder otherBench = new Recorder();
        StudySettings moreTokens = new StudySettings(settings.input(), settings.text(), 64, 2, new Benchmark.Options(8, 5, 1, 0, 42),
                LoadedModel.Device.CPU, 1);
        study(dir, moreTokens, "q4_0").run(otherBench);
        assertThat(otherBench.finished).containsExactly("q4_0");
        Recorder otherBase = new Recorder();
        study(dir, moreTokens, "q8_0,q4_0").run(otherBase); // q4_0 was measured with itself as base
        assertThat(otherBase.finished).containsExactly("q8_0", "q4_0");
    }

    @Test
    void cancellingLeavesOnlyFinishedTypesInTheCache(@TempDir Path dir) throws Exception {
        StudySettings settings = settings(dir);
        Recorder recorder = new Recorder();
        recorder.cancelAfter = 1;
        assertThatThrownBy(() -> study(dir, settings, "f16,q4_0").run(recorder)).isInstanceOf(CancellationException.class);
        Path cache = dir.resolve("report/cache");
        assertThat(!Files.exists(cache) || Files.list(cache).findAny().isEmpty()).isTrue();
        try (var work = Files.list(dir.resolve("report/work"))) {
            assertThat(work.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".partial"));
        }
    }

    @Test
    void aNewTypeAfterTheWorkFolderWasDeletedRebuildsTheKlBase(@TempDir Path dir) throws Exception {
        Path stories = Path.of(System.getProperty("panllm.home"), "models/stories260K/stories260K_q80.bin");
        StudySettings settings = new StudySettings(stories, Path.of(System.getProperty("panllm.data"), "wikitext-2/wiki.test.raw"),
                64, 1, new Benchmark.Options(4, 2, 1, 0, 42), LoadedModel.Device.CPU, 1);
        CompareStudy.SourceOpener source = () -> new Llama2cSource(stories, null);
        StudyResult first = new CompareStudy(source, settings, StudyFormat.parseList("f16,q4_0"), dir).run(new Recorder());
        assertThat(first.randomWeights()).isFalse();
        assertThat(first.results().get(1).meanKld()).isPositive();
        assertThat(first.results().get(1).perplexity()).isGreaterThan(1);

        deleteRecursively(dir.resolve("work"));
        Recorder recorder = new Recorder();
        StudyResult second = new CompareStudy(source, settings, StudyFormat.parseList("f16,q4_0,q8_0"), dir).run(recorder);
        assertThat(recorder.cached).containsExactly("f16", "q4_0");
        assertThat(recorder.progress).anyMatch(p -> p.detail().startsWith("rebuilding the f16 base"));
        FormatResult q8 = second.results().get(2);
        assertThat(q8.meanKld()).as(q8.error()).isPositive().isLessThan(first.results().get(1).meanKld());
        assertThat(q8.sameTop()).isGreaterThan(0.9);
    }

    private static void deleteRecursively(Path dir) throws Exception {
        try (var files = Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** RandomInit whose blk.1.ffn_up.weight cannot be read, as a truncated checkpoint would. */
    private static final class BrokenSource implements ModelSource {
        private final RandomInit inner = new RandomInit(RandomInit.Shape.TINY, 7, null);

        @Override
        public Map<String, GgufValue> metadata() {
            return inner.metadata();
        }

        @Override
        public List<SourceTensor> tensors() {
            return inner.tensors().stream().map(t -> !t.name().equals("blk.1.ffn_up.weight") ? t
                    : new SourceTensor(t.name(), t.shape(), t.sourceType(), null, (first, count, dst) -> {
                        throw new IOException("tiny-random: truncated at blk.1.ffn_up.weight");
                    })).toList();
        }

        @Override
        public String description() {
            return "broken";
        }
    }

    @Test
    void aTypeThatFailsRecordsItsErrorAndTheStudyGoesOn(@TempDir Path dir) throws Exception {
        StudySettings settings = settings(dir);
        Recorder recorder = new Recorder();
        StudyResult result = new CompareStudy(BrokenSource::new, settings, StudyFormat.parseList("f16,q4_0,int8"), dir.resolve("report"))
                .run(recorder);
        assertThat(recorder.finished).containsExactly("f16", "q4_0", "int8");
        for (FormatResult r : result.results()) {
            assertThat(r.status()).isEqualTo(FormatResult.Status.FAILED);
            assertThat(r.error()).isEqualTo("convert: tiny-random: truncated at blk.1.ffn_up.weight");
            assertThat(r.genTokensPerSecond()).isNull();
        }
        assertThat(Files.exists(dir.resolve("report/cache/f16.json"))).isFalse(); // failures are tried again next time
        String md = MarkdownReport.render(result, "panllm compare", List.of());
        assertThat(md).contains("| f16 (base) |").contains("failed: convert: tiny-random: truncated")
                .contains("the base f16 could not be measured");
    }

    @Test
    void aCorruptCacheFileIsMeasuredAgain(@TempDir Path dir) throws Exception {
        StudySettings settings = settings(dir);
        study(dir, settings, "q4_0").run(new Recorder());
        Files.writeString(dir.resolve("report/cache/q4_0.json"), "{not json");
        Recorder recorder = new Recorder();
        study(dir, settings, "q4_0").run(recorder);
        assertThat(recorder.finished).containsExactly("q4_0");
    }
}
