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

    /** llama-batched-bench's rows: P sequences generating together, aggregate and per-sequence speed. */
    @Test
    void parallelSequencesOnTheCpu() throws Exception {
        Cli.Result r = Cli.run("bench", "-p", "8", "-n", "4", "--parallel", "1,3", "-r", "2", "--warmup", "0", "-t", "2",
                "-o", "json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode rows = new ObjectMapper().readTree(r.out());
        assertThat(rows).hasSize(2);
        for (int i = 0; i < 2; i++) {
            JsonNode row = rows.get(i);
            int parallel = i == 0 ? 1 : 3;
            assertThat(row.get("test").asText()).isEqualTo("tg4 @ d8");
            assertThat(row.get("parallel").asInt()).isEqualTo(parallel);
            assertThat(row.get("tokens").asInt()).isEqualTo(4 * parallel);
            double aggregate = row.get("aggregate_tok_s").asDouble();
            assertThat(aggregate).isPositive();
            assertThat(row.get("per_sequence_tok_s").asDouble()).isCloseTo(aggregate / parallel, org.assertj.core.data.Offset.offset(1e-6 * aggregate));
            long perToken = row.get("weight_bytes_per_token").asLong();
            assertThat(row.get("weight_gb_s").asDouble()).isCloseTo(perToken * aggregate / 1e9,
                    org.assertj.core.data.Offset.offset(1e-3 * perToken * aggregate / 1e9));
        }
        // each step reads the weights once for all its sequences
        assertThat(rows.get(1).get("weight_bytes_per_token").asDouble())
                .isCloseTo(rows.get(0).get("weight_bytes_per_token").asDouble() / 3, org.assertj.core.data.Offset.offset(1.0));

        Cli.Result table = Cli.run("bench", "-p", "4", "-n", "2", "--parallel", "2", "-r", "1", "--warmup", "0", "-t", "2");
        assertThat(table.exitCode()).as(table.err()).isZero();
        assertThat(table.out()).contains("| parallel | aggregate t/s | per sequence t/s | ms/step | weights/token | GB/s |")
                .containsPattern("\\| tg2 @ d4 \\| 2 \\| [0-9.]+ ± [0-9.]+ \\| [0-9.]+ \\| [0-9.]+ \\| [0-9.]+ [KMG]?i?B \\| [0-9.]+ \\|");
    }

    /** Every llama-bench row also says how many weight bytes each token read and at what rate. */
    @Test
    void rowsCarryWeightBytesPerTokenAndBandwidth() throws Exception {
        Cli.Result r = Cli.run("bench", "-p", "16", "-n", "4", "-r", "1", "--warmup", "0", "-t", "2", "-o", "json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode rows = new ObjectMapper().readTree(r.out());
        long pp = rows.get(0).get("weight_bytes_per_token").asLong();
        long tg = rows.get(1).get("weight_bytes_per_token").asLong();
        assertThat(tg).isPositive();
        assertThat(pp).isCloseTo(tg / 16, org.assertj.core.data.Offset.offset(1L));
        assertThat(rows.get(1).get("parallel").asInt()).isEqualTo(1);
        Cli.Result table = Cli.run("bench", "-p", "0", "-n", "2", "-r", "1", "--warmup", "0", "-t", "2");
        assertThat(table.out()).contains("| weights/token | GB/s |").contains("weights/token: weight bytes");
    }

    @Test
    void badParallelCountsAreRefused() {
        Cli.Result zero = Cli.run("bench", "-p", "8", "-n", "2", "--parallel", "2,0");
        assertThat(zero.exitCode()).isEqualTo(2);
        assertThat(zero.err()).contains("--parallel").doesNotContain("Exception");
        Cli.Result word = Cli.run("bench", "-n", "2", "--parallel", "two");
        assertThat(word.exitCode()).isEqualTo(2);
    }

    @Test
    void negativeBatchIsAUsageError() {
        Cli.Result r = Cli.run("bench", "-p", "32", "-b", "-1");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("-b");
    }
}
