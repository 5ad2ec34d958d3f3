package io.panllm.runtime.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.panllm.runtime.ContextOverflowException;
import io.panllm.runtime.LoadedModel;
import io.panllm.runtime.Session;
import io.panllm.runtime.cpu.CpuBackend;
import io.panllm.runtime.testing.BatchedDecoding;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Batched decoding on the CPU: each sequence as if alone. */
class BatchedDecodeTest {

    private static LoadedModel stories() {
        Path data = Path.of(System.getProperty("panllm.data", "../shared/data"), "llama2c");
        Path checkpoint = data.resolve("stories260K_q80.bin");
        Assumptions.assumeTrue(Files.isRegularFile(checkpoint), "test data missing: " + checkpoint);
        return LoadedModel.openLlama2c(checkpoint, data.resolve("tok512.bin"), LoadedModel.Device.CPU, 2);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 8})
    void stories260KSequencesDecodeTogetherAsAlone(int batch) {
        try (LoadedModel stories = stories()) {
            BatchedDecoding.assertMatchesAlone(stories.model(), batch, 24, batch, 1e-5);
        }
    }

    /** More sequences than one group of the CPU's batch: the groups must not mix. */
    @Test
    void moreSequencesThanOneGroup() {
        try (LoadedModel stories = stories()) {
            BatchedDecoding.assertMatchesAlone(stories.model(), 70, 3, 70, 1e-5);
        }
    }

    /** Grouped-query attention, rope over halves of part of the head, q/k/v biases (qwen2-like), F32. */
    @Test
    void qwen2StyleModel() {
        ModelConfig config = new ModelConfig("qwen2", 48, 2, 96, 6, 2, 32, 1e-6f, 1000000f, 4, RopeLayout.HALVES, 1f, 64, 80);
        try (Arena arena = Arena.ofShared(); CpuBackend backend = new CpuBackend(2)) {
            Map<String, TensorView> tensors = TestModels.random(config, arena, 11, false, false, true);
            try (LlamaModel model = LlamaModel.fromTensors(config, tensors, backend)) {
                BatchedDecoding.assertMatchesAlone(model, 5, 10, 5, 1e-5);
            }
        }
    }

    @Test
    void refusesABadBatchBeforeRunningAnyOfIt() {
        try (LoadedModel stories = stories()) {
            var model = stories.model();
            try (Session a = model.newSession(4); Session b = model.newSession(1); Session c = model.newSession(8)) {
                a.forward(new int[] {1, 2});
                b.forward(new int[] {1});
                assertThatThrownBy(() -> model.decodeBatch(List.of(a, c, b), new int[] {5, 6, 7}, (i, l) -> { }))
                        .isInstanceOf(ContextOverflowException.class);
                assertThatThrownBy(() -> model.decodeBatch(List.of(a, a), new int[] {5, 6}, (i, l) -> { }))
                        .hasMessageContaining("twice");
                assertThatThrownBy(() -> model.decodeBatch(List.of(a, c), new int[] {5, 100_000}, (i, l) -> { }))
                        .hasMessageContaining("outside the vocabulary");
                assertThatThrownBy(() -> model.decodeBatch(List.of(a, c), new int[] {5}, (i, l) -> { }))
                        .hasMessageContaining("2 sessions but 1 tokens");
                assertThat(a.position()).isEqualTo(2);
                assertThat(c.position()).isZero();
                model.decodeBatch(List.of(a, c), new int[] {5, 6}, (i, l) -> { });
                assertThat(a.position()).isEqualTo(3);
                assertThat(c.position()).isEqualTo(1);
            }
            try (LoadedModel other = stories(); Session foreign = other.model().newSession(4);
                 Session mine = model.newSession(4)) {
                assertThatThrownBy(() -> model.decodeBatch(List.of(mine, foreign), new int[] {5, 6}, (i, l) -> { }))
                        .hasMessageContaining("not made by this model");
            }
        }
    }
}
