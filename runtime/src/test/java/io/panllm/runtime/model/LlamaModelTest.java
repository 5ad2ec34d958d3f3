package io.panllm.runtime.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.panllm.gguf.GgufFile;
import io.panllm.runtime.ContextOverflowException;
import io.panllm.runtime.Session;
import io.panllm.runtime.cpu.CpuBackend;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class LlamaModelTest {
    private static final int[] PROMPT = {1, 450, 4996, 17354, 1701, 29916, 432, 17204, 975, 278, 17366, 11203, 29889};

    private static GgufFile tinyFile;
    private static LlamaModel tiny;
    private static CpuBackend backend;

    @BeforeAll
    static void load() {
        backend = new CpuBackend(2);
        tinyFile = GgufFile.open(TestModels.tinyGguf());
        tiny = LlamaModel.load(tinyFile, backend);
    }

    @AfterAll
    static void close() {
        tiny.close();
        tinyFile.close();
        backend.close();
    }

    /** Logits after every token, from one batched call. */
    static List<float[]> allLogits(LlamaModel model, int[] tokens) {
        List<float[]> out = new ArrayList<>();
        try (Session s = model.newSession(tokens.length + 4)) {
            s.forward(tokens, (i, logits) -> {
                assertThat(i).isEqualTo(out.size());
                out.add(logits.clone());
            });
        }
        return out;
    }

    /** Asserts |actual - expected| <= tolerance * max |expected| at every position. */
    static void assertClose(List<float[]> actual, List<double[]> expected, double tolerance) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int p = 0; p < expected.size(); p++) {
            double max = 0;
            for (double v : expected.get(p)) {
                max = Math.max(max, Math.abs(v));
            }
            for (int i = 0; i < expected.get(p).length; i++) {
                double error = Math.abs(actual.get(p)[i] - expected.get(p)[i]);
                if (error > tolerance * max) {
                    throw new AssertionError("position " + p + " logit " + i + ": " + actual.get(p)[i] + " vs reference "
                            + expected.get(p)[i] + " (error " + error / max + " of the largest logit " + max + ")");
                }
            }
        }
    }

    /** Element-wise |a - b| <= tolerance (AssertJ is slow on 32000-element arrays). */
    static void assertNear(float[] actual, float[] expected, float tolerance, String what) {
        assertThat(actual).as(what).hasSameSizeAs(expected);
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(actual[i] - expected[i]) <= tolerance)) {
                throw new AssertionError(what + ", logit " + i + ": " + actual[i] + " vs " + expected[i]);
            }
        }
    }

    @Test
    void configOfTheTinyGguf() {
        ModelConfig c = tiny.config();
        assertThat(c.embeddingLength()).isEqualTo(8);
        assertThat(c.blockCount()).isEqualTo(1);
        assertThat(c.headCount()).isEqualTo(2);
        assertThat(c.headDim()).isEqualTo(4);
        assertThat(c.vocabSize()).isEqualTo(32000);
        assertThat(c.ropeFreqBase()).isEqualTo(10000f);
        assertThat(c.ropeLayout()).isEqualTo(RopeLayout.ADJACENT_PAIRS);
        assertThat(tiny.weights().tiedOutput()).isFalse();
        assertThat(tiny.description()).startsWith("llama ").contains("F16").endsWith("on cpu (2 threads)");
    }

    @Test
    void tinyGgufMatchesTheFloat64Reference() {
        ReferenceLlama reference = new ReferenceLlama(tiny.config(), tiny.weights().tensors());
        assertClose(allLogits(tiny, PROMPT), reference.logits(PROMPT), 1e-4);
    }

    @Test
    void llama3ShapedModelMatchesTheReference() {
        ModelConfig config = TestModels.llama3Shaped();
        try (Arena arena = Arena.ofShared(); CpuBackend cpu = new CpuBackend(2)) {
            Map<String, TensorView> tensors = TestModels.random(config, arena, 42, true, true, false);
            try (LlamaModel model = LlamaModel.fromTensors(config, tensors, cpu)) {
                assertThat(model.weights().tiedOutput()).isTrue();
                assertThat(model.weights().ropeFreqs()).isNotNull();
                int[] tokens = new int[40]; // longer than one CPU batch
                for (int i = 0; i < tokens.length; i++) {
                    tokens[i] = (i * 37 + 11) % config.vocabSize();
                }
                assertClose(allLogits(model, tokens), new ReferenceLlama(config, tensors).logits(tokens), 1e-4);
            }
        }
    }

    @Test
    void qwen2StyleBiasesAndHalvesRopeMatchTheReference() {
        ModelConfig config = new ModelConfig("qwen2", 32, 1, 64, 4, 2, 8, 1e-6f, 1000000f, 8, RopeLayout.HALVES, 1f, 64, 100);
        try (Arena arena = Arena.ofShared()) {
            Map<String, TensorView> tensors = TestModels.random(config, arena, 3, false, false, true);
            try (LlamaModel model = LlamaModel.fromTensors(config, tensors, backend)) {
                int[] tokens = {5, 17, 99, 0, 42, 42, 7};
                assertClose(allLogits(model, tokens), new ReferenceLlama(config, tensors).logits(tokens), 1e-4);
            }
        }
    }

    @Test
    void linearRopeScalingAndPartialRotationMatchTheReference() {
        ModelConfig config = new ModelConfig("llama", 32, 1, 48, 2, 1, 16, 1e-5f, 10000f, 8, RopeLayout.ADJACENT_PAIRS, 4f, 64, 50);
        try (Arena arena = Arena.ofShared()) {
            Map<String, TensorView> tensors = TestModels.random(config, arena, 9, false, false, false);
            try (LlamaModel model = LlamaModel.fromTensors(config, tensors, backend)) {
                int[] tokens = {1, 2, 3, 4, 5, 6, 7, 8, 9};
                assertClose(allLogits(model, tokens), new ReferenceLlama(config, tensors).logits(tokens), 1e-4);
            }
        }
    }

    @Test
    void batchedForwardEqualsTokenByToken() {
        int[] tokens = new int[37];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = PROMPT[i % PROMPT.length] + i;
        }
        List<float[]> batched = allLogits(tiny, tokens);
        try (Session s = tiny.newSession(64)) {
            for (int i = 0; i < tokens.length; i++) {
                float[] single = s.forward(new int[] {tokens[i]});
                assertNear(single, batched.get(i), 1e-5f, "position " + i);
            }
            assertThat(s.position()).isEqualTo(tokens.length);
        }
        try (Session s = tiny.newSession(64)) {
            assertNear(s.forward(tokens), batched.get(tokens.length - 1), 1e-5f, "last position");
        }
    }

    @Test
    void rewindThenForwardEqualsAFreshSession() {
        int[] first = {1, 450, 4996, 17354, 1701, 29916};
        int[] replacement = {263, 1243};
        try (Session s = tiny.newSession(16); Session fresh = tiny.newSession(16)) {
            s.forward(first);
            s.rewind(3);
            assertThat(s.position()).isEqualTo(3);
            float[] afterRewind = s.forward(replacement);
            fresh.forward(new int[] {1, 450, 4996});
            assertNear(afterRewind, fresh.forward(replacement), 0f, "after rewind");
            s.rewind(0);
            assertNear(s.forward(new int[] {1}), allLogits(tiny, new int[] {1}).get(0), 0f, "after rewind to 0");
            assertThatThrownBy(() -> s.rewind(5)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void contextOverflowIsRefusedWithoutSideEffects() {
        try (Session s = tiny.newSession(4)) {
            s.forward(new int[] {1, 2, 3});
            assertThatThrownBy(() -> s.forward(new int[] {4, 5})).isInstanceOf(ContextOverflowException.class)
                    .hasMessageContaining("3 tokens in the cache + 2 new").hasMessageContaining("4");
            assertThat(s.position()).isEqualTo(3);
            assertThat(s.forward(new int[] {4})).hasSize(32000);
            assertThatThrownBy(() -> s.forward(new int[] {5})).isInstanceOf(ContextOverflowException.class);
        }
    }

    @Test
    void aCacheLargerThanTheHeapIsRefusedWithAMessage() {
        assertThatThrownBy(() -> tiny.newSession(100_000_000)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("KV cache").hasMessageContaining("smaller context");
    }

    @Test
    void badTokenIdsAreRefused() {
        try (Session s = tiny.newSession(4)) {
            assertThatThrownBy(() -> s.forward(new int[] {32000})).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("32000");
            assertThatThrownBy(() -> s.forward(new int[0])).isInstanceOf(IllegalArgumentException.class);
            assertThat(s.position()).isZero();
        }
    }

    @Test
    void unknownArchitectureIsAModelException() {
        try (GgufFile gpt2 = GgufFile.open(TestModels.tinyGguf().resolveSibling("vocab/ggml-vocab-gpt-2.gguf"))) {
            assertThatThrownBy(() -> LlamaModel.load(gpt2, backend)).isInstanceOf(ModelException.class)
                    .hasMessageContaining("ggml-vocab-gpt-2.gguf").hasMessageContaining("architecture 'gpt2'");
        }
    }

    @Test
    void missingTensorIsAModelException() {
        try (GgufFile vocabOnly = GgufFile.open(TestModels.tinyGguf().resolveSibling("vocab/ggml-vocab-llama-spm.gguf"))) {
            assertThatThrownBy(() -> LlamaModel.load(vocabOnly, backend)).isInstanceOf(ModelException.class)
                    .hasMessageContaining("tensor 'token_embd.weight' is missing");
        }
    }

    @Test
    void typeTheCpuCannotComputeWithIsAModelException() {
        ModelConfig config = TestModels.llama3Shaped();
        try (Arena arena = Arena.ofShared()) {
            Map<String, TensorView> tensors = new LinkedHashMap<>(TestModels.random(config, arena, 1, true, false, false));
            TensorView q = tensors.get("blk.0.attn_q.weight");
            var q8_1 = io.panllm.tensor.GgmlType.Q8_1; // an activation type: no model stores its weights so
            tensors.put(q.name(), new TensorView(q.name(), q8_1, q.shape(), arena.allocate(q8_1.byteSize(q.elementCount()))));
            assertThatThrownBy(() -> LlamaModel.fromTensors(config, tensors, backend)).isInstanceOf(ModelException.class)
                    .hasMessageContaining("'blk.0.attn_q.weight' is Q8_1");
        }
    }

    @Test
    void confinedMemoryIsRefusedForSeveralThreads() {
        ModelConfig config = TestModels.llama3Shaped();
        try (Arena arena = Arena.ofConfined()) {
            Map<String, TensorView> tensors = TestModels.random(config, arena, 1, true, false, false);
            assertThatThrownBy(() -> LlamaModel.fromTensors(config, tensors, backend)).isInstanceOf(ModelException.class)
                    .hasMessageContaining("Arena.ofShared()");
        }
    }

    @Test
    void wrongShapeIsAModelException() {
        ModelConfig config = TestModels.llama3Shaped();
        try (Arena arena = Arena.ofShared()) {
            Map<String, TensorView> tensors = new LinkedHashMap<>(TestModels.random(config, arena, 1, true, false, false));
            tensors.put("blk.1.attn_k.weight", TestModels.randomF32(arena, new java.util.Random(), "blk.1.attn_k.weight", 1, 0,
                    64, 64));
            assertThatThrownBy(() -> ModelWeights.of(config, tensors)).isInstanceOf(ModelException.class)
                    .hasMessage("model: tensor 'blk.1.attn_k.weight' has shape [64, 64], expected [64, 16]");
        }
    }
}
