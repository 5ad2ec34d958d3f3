package io.panllm.runtime.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.panllm.gguf.GgufFile;
import io.panllm.kernels.CudaUnavailableException;
import io.panllm.runtime.Argmax;
import io.panllm.runtime.LanguageModel;
import io.panllm.runtime.LoadedModel;
import io.panllm.runtime.Session;
import io.panllm.runtime.backend.Backend;
import io.panllm.runtime.cpu.CpuBackend;
import io.panllm.runtime.model.LlamaModel;
import io.panllm.runtime.model.ModelConfig;
import io.panllm.runtime.model.ModelWeights;
import io.panllm.runtime.model.RopeLayout;
import io.panllm.runtime.model.TensorView;
import io.panllm.tensor.GgmlType;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The CUDA backend against the CPU backend (the reference) on the same weights: logits within
 * a relative L2 error of 1e-3 at every position, the same greedy tokens. Skipped, with the
 * reason, where there is no GPU. Extra GGUF files to compare (a Llama-3.2-1B-shaped random
 * model, say) can be named in the system property {@code panllm.cuda.models}, comma-separated.
 */
class CudaBackendTest {
    private static final double TOLERANCE = 1e-3;
    private static CudaBackend gpu;
    private static String noGpu;

    @BeforeAll
    static void openGpu() {
        // the float-activation kernels, to 1e-3; the dp4a ones (int8 x) have their own test below
        System.setProperty("panllm.cuda.dp4a", "false");
        try {
            gpu = new CudaBackend();
        } catch (CudaUnavailableException e) {
            noGpu = e.getMessage();
        }
    }

    @AfterAll
    static void closeGpu() {
        if (gpu != null) {
            gpu.close();
        }
    }

    private static void requireGpu() {
        Assumptions.assumeTrue(gpu != null, () -> "no GPU: " + noGpu);
    }

    @Test
    void supportedTypesAreTheOnesWithKernels() {
        // needs no GPU
        assertThat(CudaBackend.supportedTypes()).containsExactlyInAnyOrder(GgmlType.F32, GgmlType.F16, GgmlType.BF16,
                GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ4_NL, GgmlType.NF4,
                GgmlType.FP4, GgmlType.I8);
    }

    @Test
    void unsupportedTypesAreRefusedByName() {
        // needs no GPU: the check runs before anything is uploaded
        try (Arena arena = Arena.ofConfined()) {
            TensorView q41 = RandomLlama.tensor(arena, new Random(1), "output.weight", GgmlType.Q4_1, 0.1, 0, 256, 4);
            assertThatThrownBy(() -> DeviceMatrix.checkSupported(q41))
                    .isInstanceOf(UnsupportedOnGpuException.class)
                    .hasMessageContaining("output.weight").hasMessageContaining("Q4_1").hasMessageContaining("--device cpu");
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "Q8_0", "Q4_0", "BF16", "IQ4_NL", "Q4_K", "Q5_K", "Q6_K", "NF4", "FP4", "I8"})
    void randomLlamaMatchesTheCpu(GgmlType type) {
        requireGpu();
        ModelConfig config = ModelConfig.llama(256, 2, 512, 8, 2, 1000, 256, 1e-5f, 10000f);
        try (Arena arena = Arena.ofShared()) {
            Map<String, TensorView> tensors = RandomLlama.tensors(config, type, arena, 42, false, true);
            compare(config + " " + type, b -> LlamaModel.fromTensors(config, tensors, b), prompt(1000, 40), 16);
        }
    }

    /**
     * The dp4a kernels (x quantized to int8 blocks of 32 per GEMV input) on a model whose widths they
     * take (2048 wide): the logits move by the int8 rounding
     * of the activations (about 1% relative L2 here), so the bar is 3e-2 and 3 of 4 greedy tokens
     * (teacher-forced with the CPU's).
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0", "IQ4_NL", "Q4_K", "Q5_K", "NF4", "I8"})
    void dp4aPathStaysCloseToTheCpu(GgmlType type) {
        requireGpu();
        ModelConfig config = ModelConfig.llama(2048, 1, 2048, 16, 4, 1000, 128, 1e-5f, 10000f);
        System.setProperty("panllm.cuda.dp4a", "true");
        try (Arena arena = Arena.ofShared()) {
            Map<String, TensorView> tensors = RandomLlama.tensors(config, type, arena, 42, false, true);
            compare(config + " " + type + " dp4a", b -> LlamaModel.fromTensors(config, tensors, b), prompt(1000, 12), 8,
                    3e-2, 0.75);
        } finally {
            System.setProperty("panllm.cuda.dp4a", "false");
        }
    }

    @Test
    void mixedTypesInOneLayer() {
        // attn_v and ffn_up in Q8_0 among Q4_0 matrices: only runs of one type are stacked
        requireGpu();
        ModelConfig config = ModelConfig.llama(256, 2, 512, 8, 4, 800, 128, 1e-5f, 500000f);
        try (Arena arena = Arena.ofShared()) {
            Map<String, TensorView> tensors = new java.util.LinkedHashMap<>(
                    RandomLlama.tensors(config, GgmlType.Q4_0, arena, 11, false, false));
            Random random = new Random(5);
            for (int l = 0; l < config.blockCount(); l++) {
                String v = "blk." + l + ".attn_v.weight";
                String up = "blk." + l + ".ffn_up.weight";
                tensors.put(v, RandomLlama.tensor(arena, random, v, GgmlType.Q8_0, 1 / 16.0, 0, 256, config.kvDim()));
                tensors.put(up, RandomLlama.tensor(arena, random, up, GgmlType.F16, 1 / 16.0, 0, 256, 512));
            }
            compare("mixed types", b -> LlamaModel.fromTensors(config, tensors, b), prompt(800, 20), 8);
        }
    }

    @Test
    void greedyTokenComesFromTheGpuArgmax() {
        requireGpu();
        ModelConfig config = ModelConfig.llama(128, 1, 256, 4, 4, 3000, 64, 1e-5f, 10000f);
        try (Arena arena = Arena.ofShared();
             CpuBackend cpuBackend = new CpuBackend(2)) {
            ModelWeights weights = ModelWeights.of(config, RandomLlama.tensors(config, GgmlType.Q8_0, arena, 3, false, false));
            int[] prompt = prompt(3000, 9);
            try (Backend.BackendModel cpu = cpuBackend.load(weights);
                 Backend.KvCache cpuCache = cpu.newKvCache(16);
                 CudaModel cuda = gpu.load(weights);
                 Backend.KvCache cudaCache = cuda.newKvCache(16)) {
                float[][] last = new float[1][];
                cpu.forward(cpuCache, prompt, 0, Backend.Logits.LAST, (i, logits) -> last[0] = logits.clone());
                assertThat(cuda.forwardGreedy(cudaCache, prompt, 0)).isEqualTo(Argmax.of(last[0]));
                int next = Argmax.of(last[0]);
                cpu.forward(cpuCache, new int[] {next}, prompt.length, Backend.Logits.LAST, (i, logits) -> last[0] = logits.clone());
                assertThat(cuda.forwardGreedy(cudaCache, new int[] {next}, prompt.length)).isEqualTo(Argmax.of(last[0]));
            }
        }
    }

    @Test
    void qwen2StyleRopeHalvesPartialRotationAndBiases() {
        requireGpu();
        ModelConfig config = new ModelConfig("qwen2", 192, 2, 384, 6, 2, 32, 1e-6f, 1000000f, 16, RopeLayout.HALVES, 1f,
                256, 700);
        try (Arena arena = Arena.ofShared()) {
            Map<String, TensorView> tensors = RandomLlama.tensors(config, GgmlType.F16, arena, 7, true, false);
            compare("qwen2-style", b -> LlamaModel.fromTensors(config, tensors, b), prompt(700, 30), 12);
        }
    }

    @Test
    void stories260KMatchesTheCpu() {
        requireGpu();
        Path data = Path.of(System.getProperty("panllm.data", "../shared/data"), "llama2c");
        Path checkpoint = data.resolve("stories260K_q80.bin");
        Assumptions.assumeTrue(Files.isRegularFile(checkpoint), "test data missing: " + checkpoint);
        try (LoadedModel cpu = LoadedModel.openLlama2c(checkpoint, data.resolve("tok512.bin"), LoadedModel.Device.CPU, 2);
             LoadedModel cuda = LoadedModel.openLlama2c(checkpoint, data.resolve("tok512.bin"), LoadedModel.Device.CUDA, 0)) {
            assertThat(cuda.model().description()).contains("cuda");
            int[] prompt = cpu.tokenizer().encode("Once upon a time", true, false);
            compare("stories260K", cpu.model(), cuda.model(), prompt, 60);
        }
    }

    @Test
    void extraModelsFromTheCommandLine() {
        requireGpu();
        String list = System.getProperty("panllm.cuda.models", "");
        Assumptions.assumeFalse(list.isBlank(), "no -Dpanllm.cuda.models given");
        for (String file : list.split(",")) {
            try (LoadedModel cpu = LoadedModel.open(Path.of(file), LoadedModel.Device.CPU, 0);
                 LoadedModel cuda = LoadedModel.open(Path.of(file), LoadedModel.Device.CUDA, 0)) {
                compare(file, cpu.model(), cuda.model(), prompt(cpu.model().vocabSize(), 12), 8);
                System.setProperty("panllm.cuda.dp4a", "true");
                try (LoadedModel dp4a = LoadedModel.open(Path.of(file), LoadedModel.Device.CUDA, 0)) {
                    compare(file + " dp4a", cpu.model(), dp4a.model(), prompt(cpu.model().vocabSize(), 12), 8, 3e-2, 0.75);
                } finally {
                    System.setProperty("panllm.cuda.dp4a", "false");
                }
            }
            timeGreedyDecoding(Path.of(file));
        }
    }

    /** Prints the decode speed with the argmax on the GPU (4 bytes back per token), for the notes. */
    private static void timeGreedyDecoding(Path file) {
        try (GgufFile gguf = GgufFile.open(file);
             CudaModel model = gpu.load(ModelWeights.fromGguf(gguf, ModelConfig.fromGguf(gguf)));
             Backend.KvCache cache = model.newKvCache(1024)) {
            int next = model.forwardGreedy(cache, prompt(model.config().vocabSize(), 512), 0);
            int position = 512;
            for (int warmup = 0; warmup < 16; warmup++) {
                next = model.forwardGreedy(cache, new int[] {next}, position++);
            }
            long start = System.nanoTime();
            int steps = 128;
            for (int s = 0; s < steps; s++) {
                next = model.forwardGreedy(cache, new int[] {next}, position++);
            }
            double ms = (System.nanoTime() - start) / 1e6 / steps;
            System.out.printf("%s: greedy decode at positions 528-655 with the GPU argmax: %.3f ms/token, %.1f tok/s%n",
                    file.getFileName(), ms, 1000 / ms);
        }
    }

    private static int[] prompt(int vocab, int length) {
        Random random = new Random(length);
        int[] tokens = new int[length];
        for (int i = 0; i < length; i++) {
            tokens[i] = random.nextInt(vocab);
        }
        return tokens;
    }

    private void compare(String what, java.util.function.Function<Backend, LanguageModel> loader, int[] prompt, int steps) {
        compare(what, loader, prompt, steps, TOLERANCE, 1);
    }

    private void compare(String what, java.util.function.Function<Backend, LanguageModel> loader, int[] prompt, int steps,
                         double tolerance, double sameTokens) {
        try (CpuBackend cpuBackend = new CpuBackend(2);
             LanguageModel cpu = loader.apply(cpuBackend);
             LanguageModel cuda = loader.apply(gpu)) {
            compare(what, cpu, cuda, prompt, steps, tolerance, sameTokens);
        }
    }

    /** Logits of every prompt position, then {@code steps} greedy steps: same tokens, close logits. */
    private static void compare(String what, LanguageModel cpu, LanguageModel cuda, int[] prompt, int steps) {
        compare(what, cpu, cuda, prompt, steps, TOLERANCE, 1);
    }

    /**
     * As above with a logits tolerance and the share of greedy tokens (of steps + 1) that must be the
     * CPU's; below 1, the steps go on with the CPU's token (teacher forcing).
     */
    private static void compare(String what, LanguageModel cpu, LanguageModel cuda, int[] prompt, int steps,
                                double tolerance, double sameTokens) {
        try (Session c = cpu.newSession(prompt.length + steps + 1);
             Session g = cuda.newSession(prompt.length + steps + 1)) {
            List<float[]> expected = new ArrayList<>();
            c.forward(prompt, (i, logits) -> expected.add(logits.clone()));
            List<float[]> actual = new ArrayList<>();
            g.forward(prompt, (i, logits) -> actual.add(logits.clone()));
            assertThat(actual).hasSameSizeAs(expected);
            double worst = 0;
            for (int i = 0; i < prompt.length; i++) {
                worst = Math.max(worst, relativeL2(actual.get(i), expected.get(i)));
            }
            int next = Argmax.of(expected.getLast());
            int same = Argmax.of(actual.getLast()) == next ? 1 : 0;
            if (sameTokens >= 1) {
                assertThat(Argmax.of(actual.getLast())).as(what + " first greedy token").isEqualTo(next);
            }
            for (int s = 0; s < steps; s++) {
                float[] cpuLogits = c.forward(new int[] {next});
                float[] gpuLogits = g.forward(new int[] {next});
                worst = Math.max(worst, relativeL2(gpuLogits, cpuLogits));
                int cpuNext = Argmax.of(cpuLogits);
                same += Argmax.of(gpuLogits) == cpuNext ? 1 : 0;
                if (sameTokens >= 1) {
                    assertThat(Argmax.of(gpuLogits)).as(what + " greedy token " + s).isEqualTo(cpuNext);
                }
                next = cpuNext;
            }
            System.out.printf("%s: worst relative L2 of the logits over %d positions: %.3g, same greedy token %d of %d%n",
                    what, prompt.length + steps, worst, same, steps + 1);
            assertThat(worst).as(what + " relative L2 of the logits").isLessThan(tolerance);
            assertThat(same).as(what + " greedy tokens as the CPU's").isGreaterThanOrEqualTo((int) Math.ceil(sameTokens * (steps + 1)));
        }
    }

    static double relativeL2(float[] actual, float[] expected) {
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = (double) actual[i] - expected[i];
            diff += d * d;
            norm += (double) expected[i] * expected[i];
        }
        return Math.sqrt(diff / norm);
    }
}
