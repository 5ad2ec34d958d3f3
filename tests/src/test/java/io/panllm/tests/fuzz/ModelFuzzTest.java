package io.panllm.tests.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fast subset of the model fuzzer: a few thousand mutated GGUF, safetensors and llama2.c
 * models, each opened, run for a token and converted, with no outcome other than success or a
 * documented one-line error. The long run is {@code tests/fuzz/run.sh}; -Dpanllm.fuzz.cases=N
 * changes the count here.
 */
class ModelFuzzTest {

    @Test
    void mutatedModelsRunOrFailWithADocumentedError(@TempDir Path work) throws Exception {
        int cases = Integer.getInteger("panllm.fuzz.cases", 2000);
        ModelFuzzer fuzzer = new ModelFuzzer(Path.of(System.getProperty("panllm.data")), work,
                Long.getLong("panllm.fuzz.seed", 20261203L), 60_000);
        ModelFuzzer.Report report = fuzzer.run(0, cases, System.out);
        report.print(System.out);
        assertThat(report.failures).isEmpty();
        assertThat(report.total(ModelFuzzer.Outcome.RAN)).as("mutants that still run").isPositive();
        assertThat(report.total(ModelFuzzer.Outcome.REFUSED)).as("mutants refused").isPositive();
    }
}
