package io.panllm.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** {@code panllm bench} on the embedded model: llama-bench's figures, and its -b prompt batch size. */
class BenchCliTest {

    @Test
    void promptInBatchesOfB() throws Exception {
        Cli.Result r = Cli.run("bench", "-p", "32", "-b", "8", "-n", "4", "-r", "2", "--warmup", "0", "-t", "2", "-o", "json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode tests = new ObjectMapper().readTree(r.out());
        assertThat(tests).hasSize(2);
        assertThat(tests.get(0).get("test").asText()).isEqualTo("pp32 (batch 8)");
        assertThat(tests.get(1).get("test").asText()).isEqualTo("tg4");
        for (JsonNode test : tests) {
            assertThat(test.get("avg_ts").asDouble()).isPositive();
            assertThat(test.get("samples_ts")).hasSize(2);
        }
        Cli.Result whole = Cli.run("bench", "-p", "32", "-n", "0", "-r", "1", "--warmup", "0", "-t", "2");
        assertThat(whole.out()).contains("| pp32 |").doesNotContain("tg");
    }

    @Test
    void negativeBatchIsAUsageError() {
        Cli.Result r = Cli.run("bench", "-p", "32", "-b", "-1");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("-b");
    }
}
