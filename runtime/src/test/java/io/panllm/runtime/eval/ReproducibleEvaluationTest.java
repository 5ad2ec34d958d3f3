package io.panllm.runtime.eval;

import static org.assertj.core.api.Assertions.assertThat;

import io.panllm.runtime.LoadedModel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same evaluation prints the same bits whatever the thread count and however far the JIT has
 * got: stories260K (its matrix products are big enough to be split among threads, its rows tile
 * four at a time) evaluated with 1, 2 and 3 threads, the first runs partly interpreted and the
 * later ones compiled. Before the reductions had a fixed order, the first chunk's perplexity
 * already differed in the 8th digit between two runs.
 */
class ReproducibleEvaluationTest {

    private static final Path DATA = Path.of(System.getProperty("panllm.data", "../shared/data"));

    @Test
    void perplexityAndKlDivergenceAreBitIdenticalAcrossThreadCountsAndRuns(@TempDir Path dir) throws IOException {
        String text = new String(Arrays.copyOf(Files.readAllBytes(DATA.resolve("wikitext-2/wiki.test.raw")), 20_000),
                StandardCharsets.UTF_8);
        PerplexityResult first = null;
        Map<String, Object> firstKld = null;
        int[] threadCounts = {1, 2, 3, 1};
        for (int run = 0; run < threadCounts.length; run++) {
            int threads = threadCounts[run];
            try (LoadedModel loaded = LoadedModel.openLlama2c(DATA.resolve("llama2c/stories260K_q80.bin"),
                    DATA.resolve("llama2c/tok512.bin"), LoadedModel.Device.CPU, threads)) {
                int[] tokens = loaded.tokenizer().encode(text, true, false);
                PerplexityOptions options = new PerplexityOptions(128, 6, true, loaded.tokenizer().bos());
                Path base = dir.resolve("base-" + run + ".kld");
                PerplexityResult ppl = KlDivergence.writeBase(loaded.model(), tokens, options, base, ProgressListener.NONE);
                Map<String, Object> kld = KlDivergence.compare(loaded.model(), base, new KldOptions(-1, true,
                        loaded.tokenizer().bos()), progress -> { }).toMap();
                if (first == null) {
                    first = ppl;
                    firstKld = kld;
                    continue;
                }
                String what = "run " + run + ", " + threads + " threads";
                assertThat(ppl.runningPerplexity()).as(what).containsExactly(first.runningPerplexity());
                assertThat(Double.doubleToRawLongBits(ppl.standardError())).as(what)
                        .isEqualTo(Double.doubleToRawLongBits(first.standardError()));
                assertThat(kld).as(what).isEqualTo(firstKld);
                assertThat(Files.readAllBytes(base)).as(what).isEqualTo(Files.readAllBytes(dir.resolve("base-0.kld")));
            }
        }
    }
}
