package io.panllm.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.withinPercentage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code panllm compare} on stories260K, checked against separate {@code perplexity} and
 * {@code bench} runs on the files it converted: the same perplexity and KL divergence, speeds
 * present and positive; a re-run reuses every finished type.
 */
class CompareTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * "Equal": the CPU backend is not bit-reproducible from one run to the next (two separate
     * {@code perplexity} runs of one file differ around the 8th digit), so equal means equal to
     * far more digits than the report prints (4 decimals of the PPL).
     */
    private static final org.assertj.core.data.Percentage SAME = withinPercentage(1e-4);

    @Test
    void reportMatchesSeparatePerplexityAndBenchRuns(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("report");
        String text = Cli.data("wikitext-2/wiki.test.raw").toString();
        String[] args = {"compare", Cli.home("models/stories260K/stories260K_q80.bin").toString(), "--types", "q4_0,f16,q4_k_m,nf4,int8",
                "-f", text, "-c", "128", "--chunks", "2", "-p", "16", "-n", "8", "-r", "1", "-t", "2", "-o", report.toString()};
        Cli.Result r = Cli.run(args);
        assertThat(r.exitCode()).as(r.err()).isZero();

        JsonNode json = JSON.readTree(report.resolve("report.json").toFile());
        assertThat(json.get("kld_base").asText()).isEqualTo("f16");
        assertThat(json.get("random_weights").asBoolean()).isFalse();
        assertThat(json.get("command").asText()).startsWith("panllm compare ").contains("--chunks 2");
        JsonNode results = json.get("results");
        assertThat(results).hasSize(5);
        int measured = 0;
        for (JsonNode row : results) {
            String type = row.get("format").asText();
            String status = row.get("status").asText();
            Path model = report.resolve("work").resolve(row.get("file").asText());
            assertThat(row.get("fileBytes").asLong()).isEqualTo(Files.size(model));
            Cli.Result ppl = Cli.run("perplexity", "-m", model.toString(), "-f", text, "-c", "128", "--chunks", "2", "-t", "2", "--json");
            if (status.equals("FAILED")) {
                // q4_k_m falls back to Q5_0 on this model's 64-wide rows: where the CPU cannot run it, neither can perplexity.
                assertThat(ppl.exitCode()).as(type).isNotZero();
                assertThat(ppl.err()).contains(row.get("error").asText().replaceFirst("^load: ", ""));
                continue;
            }
            assertThat(status).as(type + ": " + row.get("error")).isEqualTo("MEASURED");
            measured++;
            assertThat(ppl.exitCode()).as(ppl.err()).isZero();
            JsonNode separate = JSON.readTree(ppl.out());
            assertThat(row.get("perplexity").asDouble()).as(type).isCloseTo(separate.get("perplexity").asDouble(), SAME);
            assertThat(row.get("perplexityError").asDouble()).as(type).isCloseTo(separate.get("standard_error").asDouble(), SAME);
            if (!type.equals("f16")) {
                Path base = Files.list(report.resolve("work")).filter(p -> p.getFileName().toString().startsWith("kld-base-f16")).findFirst().orElseThrow();
                Cli.Result kld = Cli.run("perplexity", "-m", model.toString(), "--kl-divergence", base.toString(), "-t", "2", "--json");
                assertThat(kld.exitCode()).as(kld.err()).isZero();
                JsonNode k = JSON.readTree(kld.out());
                assertThat(row.get("meanKld").asDouble()).as(type).isCloseTo(k.get("kld_mean").get("value").asDouble(), withinPercentage(0.1)).isPositive();
                assertThat(row.get("sameTop").asDouble()).as(type).isEqualTo(k.get("same_top_p").get("value").asDouble());
            }
            Cli.Result bench = Cli.run("bench", "-m", model.toString(), "-p", "16", "-n", "8", "-r", "1", "-t", "2", "-o", "json");
            assertThat(bench.exitCode()).as(bench.err()).isZero();
            for (JsonNode test : JSON.readTree(bench.out())) {
                assertThat(test.get("avg_ts").asDouble()).isPositive();
            }
            assertThat(row.get("promptTokensPerSecond").asDouble()).as(type).isPositive();
            assertThat(row.get("genTokensPerSecond").asDouble()).as(type).isPositive();
            assertThat(row.get("peakRssBytes").asLong()).as(type).isPositive();
            assertThat(row.get("bitsPerWeight").asDouble()).as(type).isBetween(4.0, 17.0);
        }
        assertThat(measured).isGreaterThanOrEqualTo(4); // f16, q4_0, nf4, int8 (LLM.int8 row-wise) at least

        String md = Files.readString(report.resolve("report.md"));
        assertThat(md).contains("| f16 (base) |").contains("| q4_0 |").contains("| nf4 |").contains("| int8 |")
                .contains("![perplexity against bits per weight](perplexity.png)").contains("Java: ").contains("cores");
        for (String png : new String[] {"perplexity.png", "kld.png", "speed.png"}) {
            BufferedImage image = ImageIO.read(report.resolve(png).toFile());
            assertThat(image).as(png).isNotNull();
            assertThat(image.getWidth()).isGreaterThan(400);
        }

        // --render draws the same report again from report.json alone (a study measured where Java cannot draw)
        Path copy = Files.createDirectories(dir.resolve("rendered"));
        Files.copy(report.resolve("report.json"), copy.resolve("report.json"));
        Cli.Result rendered = Cli.run("compare", "--render", copy.toString());
        assertThat(rendered.exitCode()).as(rendered.err()).isZero();
        assertThat(Files.readString(copy.resolve("report.md"))).isEqualTo(md);
        assertThat(ImageIO.read(copy.resolve("speed.png").toFile())).isNotNull();
        Cli.Result noReport = Cli.run("compare", "--render", dir.toString());
        assertThat(noReport.exitCode()).isNotZero();
        assertThat(noReport.err()).contains("report.json: no such file");
        Files.writeString(copy.resolve("report.json"), "{\"results\": [");
        Cli.Result broken = Cli.run("compare", "--render", copy.toString());
        assertThat(broken.exitCode()).isEqualTo(1);
        assertThat(broken.err().strip().lines()).hasSize(1);
        assertThat(broken.err()).contains("not a report.json of panllm compare").doesNotContain("Exception");

        Cli.Result again = Cli.run(args);
        assertThat(again.exitCode()).as(again.err()).isZero();
        assertThat(again.err().split("\\(cached\\)", -1)).as(again.err()).hasSize(measured + 1); // failed types are tried again
        JsonNode second = JSON.readTree(report.resolve("report.json").toFile());
        assertThat(second.get("reused_from_cache")).hasSize(measured);
        assertThat(second.get("results").get(0).get("perplexity")).isEqualTo(results.get(0).get("perplexity"));
    }
}
