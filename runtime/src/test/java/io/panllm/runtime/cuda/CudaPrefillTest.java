package io.panllm.runtime.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.panllm.kernels.CudaUnavailableException;
import io.panllm.runtime.Argmax;
import io.panllm.runtime.LanguageModel;
import io.panllm.runtime.LoadedModel;
import io.panllm.runtime.Session;
import io.panllm.runtime.model.LlamaModel;
import io.panllm.runtime.model.ModelConfig;
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
 * Batched prefill ({@link CudaPrefill}: fp16 GEMM operands) against token-by-token decoding on
 * the same GPU (fp32 GEMVs): the logits of every prompt position within a relative L2 error of
 * {@value #TOLERANCE}, the same greedy continuation. Skipped where there is no GPU. Extra GGUF
 * files (a Llama-3.2-1B-shaped random model) can be named in {@code panllm.cuda.models}; for
 * those the prompt is longer than one batch and pp512 is timed.
 */
class CudaPrefillTest {
    /** fp16 operands (11-bit significands) for weights and activations, fp32 accumulation. */
    private static final double TOLERANCE = 1e-2;
    private static CudaBackend gpu;
    private static String noGpu;

    @BeforeAll
    static void openGpu() {
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

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "Q8_0", "Q4_0", "BF16", "IQ4_NL", "Q4_K", "Q5_K", "Q6_K", "NF4",
        "FP4", "I8"})
    void randomLlamaBatchedMatchesTokenByToken(GgmlType type) {
        requireGpu();
        ModelConfig config = ModelConfig.llama(256, 2, 512, 8, 2, 1000, 256, 1e-5f, 10000f);
        try (Arena arena = Arena.ofShared()) {
            Map<String, TensorView> tensors = RandomLlama.tensors(config, type, arena, 42, false, true);
            try (LanguageModel model = LlamaModel.fromTensors(config, tensors, gpu)) {
                compare(config + " " + type, model, prompt(1000, 45), 16);
            }
        }
    }

    @Test
    void qwen2StyleBiasesAndRopeHalves() {
        requireGpu();
        ModelConfig config = new ModelConfig("qwen2", 192, 2, 384, 6, 2, 32, 1e-6f, 1000000f, 16, RopeLayout.HALVES, 1f,
                256, 700);
        try (Arena arena = Arena.ofShared()) {
            Map<String, TensorView> tensors = RandomLlama.tensors(config, GgmlType.F16, arena, 7, true, false);
            try (LanguageModel model = LlamaModel.fromTensors(config, tensors, gpu)) {
                compare("qwen2-style", model, prompt(700, 30), 12);
            }
        }
    }

    @Test
    void stories260K() {
        requireGpu();
        Path data = Path.of(System.getProperty("panllm.data", "../shared/data"), "llama2c");
        Path checkpoint = data.resolve("stories260K_q80.bin");
        Assumptions.assumeTrue(Files.isRegularFile(checkpoint), "test data missing: " + checkpoint);
        try (LoadedModel cuda = LoadedModel.openLlama2c(checkpoint, data.resolve("tok512.bin"), LoadedModel.Device.CUDA, 0)) {
            int[] prompt = cuda.tokenizer().encode("Once upon a time there was a little girl named Lily. She", true, false);
            compare("stories260K", cuda.model(), prompt, 60);
        }
    }

    @Test
    void extraModelsFromTheCommandLine() {
        requireGpu();
        String list = System.getProperty("panllm.cuda.models", "");
        Assumptions.assumeFalse(list.isBlank(), "no -Dpanllm.cuda.models given");
        for (String file : list.split(",")) {
            try (LoadedModel cuda = LoadedModel.open(Path.of(file), LoadedModel.Device.CUDA, 0)) {
                LanguageModel model = cuda.model();
                compare(file, model, prompt(model.vocabSize(), CudaPrefill.MAX_BATCH + 77), 8);
                timePrefill(file, model);
            }
        }
    }

    /** pp512 with the argmax on the GPU, median of 5 after 2 warm-ups, for the notes. */
    private static void timePrefill(String file, LanguageModel model) {
        int[] prompt = prompt(model.vocabSize(), 512);
        List<Double> millis = new ArrayList<>();
        try (Session session = model.newSession(1024)) {
            for (int run = 0; run < 7; run++) {
                session.rewind(0);
                long start = System.nanoTime();
                session.forwardGreedy(prompt);
                millis.add((System.nanoTime() - start) / 1e6);
            }
        }
        List<Double> timed = new ArrayList<>(millis.subList(2, millis.size()));
        timed.sort(null);
        double median = timed.get(timed.size() / 2);
        System.out.printf("%s: pp512 %.2f ms, %.0f tok/s (runs %s)%n", Path.of(file).getFileName(), median,
                512 / median * 1000, millis);
    }

    /**
     * The prompt batched (all logits; and the last only, through forwardGreedy) and token by
     * token, then {@code steps} greedy steps from each: close logits, the same tokens.
     */
    private static void compare(String what, LanguageModel model, int[] prompt, int steps) {
        assertThat(prompt.length).as("prompt takes the batched path").isGreaterThanOrEqualTo(CudaPrefill.MIN_TOKENS);
        try (Session batched = model.newSession(prompt.length + steps + 1);
             Session single = model.newSession(prompt.length + steps + 1);
             Session greedy = model.newSession(prompt.length + 1)) {
            List<float[]> actual = new ArrayList<>();
            batched.forward(prompt, (i, logits) -> actual.add(logits.clone()));
            assertThat(actual).hasSize(prompt.length);
            double worst = 0;
            float[] expected = null;
            for (int i = 0; i < prompt.length; i++) {
                expected = single.forward(new int[] {prompt[i]});
                worst = Math.max(worst, CudaBackendTest.relativeL2(actual.get(i), expected));
            }
            int next = Argmax.of(expected);
            assertThat(Argmax.of(actual.getLast())).as(what + " first greedy token").isEqualTo(next);
            assertThat(greedy.forwardGreedy(prompt)).as(what + " forwardGreedy of the prompt").isEqualTo(next);
            int batchedNext = next;
            for (int s = 0; s < steps; s++) {
                float[] fromBatched = batched.forward(new int[] {batchedNext});
                float[] fromSingle = single.forward(new int[] {next});
                worst = Math.max(worst, CudaBackendTest.relativeL2(fromBatched, fromSingle));
                batchedNext = Argmax.of(fromBatched);
                next = Argmax.of(fromSingle);
                assertThat(batchedNext).as(what + " greedy token " + s).isEqualTo(next);
            }
            System.out.printf("%s: batched vs token-by-token, worst relative L2 of the logits over %d positions: %.3g%n",
                    what, prompt.length + steps, worst);
            assertThat(worst).as(what + " relative L2 of the logits").isLessThan(TOLERANCE);
            // The decode graph replays bit for bit: a difference shows the prompt took the fp16 batched path.
            assertThat(worst).as(what + ": the prompt went through the batched prefill").isGreaterThan(0);
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
}
