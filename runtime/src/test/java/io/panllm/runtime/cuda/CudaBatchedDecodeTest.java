package io.panllm.runtime.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.panllm.kernels.CudaUnavailableException;
import io.panllm.runtime.LoadedModel;
import io.panllm.runtime.model.LlamaModel;
import io.panllm.runtime.model.ModelConfig;
import io.panllm.runtime.model.RopeLayout;
import io.panllm.runtime.model.TensorView;
import io.panllm.runtime.testing.BatchedDecoding;
import io.panllm.tensor.GgmlType;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Batched decoding on the GPU ({@link CudaBatchedDecode}: fp16 GEMM operands, ragged attention)
 * against each sequence decoded alone on the GPU (fp32 GEMVs): the same greedy tokens, logits
 * within 2% of the largest. Skipped, with the reason, where there is no GPU.
 */
class CudaBatchedDecodeTest {
    private static final double TOLERANCE = 2e-2;
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

    /** Runs the check and asserts that batches of {@link CudaModel#BATCHED_MIN_SEQUENCES} or more took the batched step. */
    private static void check(io.panllm.runtime.LanguageModel model, int batch, int steps) {
        long before = CudaBatchedDecode.STEPS.get();
        BatchedDecoding.assertMatchesAlone(model, batch, steps, batch, TOLERANCE);
        boolean batched = batch >= CudaModel.BATCHED_MIN_SEQUENCES;
        assertThat(CudaBatchedDecode.STEPS.get() > before).as("batch of %d took the batched step", batch).isEqualTo(batched);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 4, 8, 70})
    void stories260K(int batch) {
        requireGpu();
        Path data = Path.of(System.getProperty("panllm.data", "../shared/data"), "llama2c");
        Path checkpoint = data.resolve("stories260K_q80.bin");
        Assumptions.assumeTrue(Files.isRegularFile(checkpoint), "test data missing: " + checkpoint);
        try (LoadedModel cuda = LoadedModel.openLlama2c(checkpoint, data.resolve("tok512.bin"), LoadedModel.Device.CUDA, 0)) {
            check(cuda.model(), batch, batch > 8 ? 6 : 24);
        }
    }

    /** Every matrix type, the LM head in several slices of the fp16 scratch (vocabulary 1000 over 256-wide rows). */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "Q8_0", "Q4_0", "BF16", "IQ4_NL", "Q4_K", "Q5_K", "Q6_K", "NF4", "I8"})
    void randomLlama(GgmlType type) {
        requireGpu();
        ModelConfig config = ModelConfig.llama(256, 2, 512, 8, 2, 1000, 256, 1e-5f, 10000f);
        try (Arena arena = Arena.ofShared()) {
            Map<String, TensorView> tensors = RandomLlama.tensors(config, type, arena, 42, false, true);
            try (LlamaModel model = LlamaModel.fromTensors(config, tensors, gpu)) {
                check(model, 9, 12);
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
            try (LlamaModel model = LlamaModel.fromTensors(config, tensors, gpu)) {
                check(model, 6, 12);
            }
        }
    }
}
