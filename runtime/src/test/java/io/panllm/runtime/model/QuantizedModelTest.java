package io.panllm.runtime.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.panllm.runtime.cpu.CpuBackend;
import io.panllm.tensor.GgmlType;
import io.panllm.tensor.Int8RowWise;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A random Llama-3-shaped model with its matrices and embedding quantized by gguf-io's codecs:
 * (1) the runtime on the quantized blocks gives the reference forward pass over the same weights
 * decoded to floats (the kernels are exact up to float rounding), and (2) the logits stay within a
 * stated distance of the F32 model's (what each format costs on this model).
 */
class QuantizedModelTest {
    // dim 256 so that every type, the 256-element k-quants included, blocks the rows.
    private static final ModelConfig CONFIG =
            new ModelConfig("llama", 256, 1, 512, 4, 2, 64, 1e-5f, 500000f, 64, RopeLayout.ADJACENT_PAIRS, 1f, 64, 320);
    private static final int[] TOKENS = {1, 17, 300, 42, 42, 5, 250, 128, 64, 3, 319, 0};

    private static Arena arena;
    private static CpuBackend backend;
    private static Map<String, TensorView> f32;
    private static List<float[]> f32Logits;

    @BeforeAll
    static void buildF32Model() {
        arena = Arena.ofShared();
        backend = new CpuBackend(2);
        f32 = TestModels.random(CONFIG, arena, 77, true, true, false);
        try (LlamaModel model = LlamaModel.fromTensors(CONFIG, f32, backend)) {
            f32Logits = LlamaModelTest.allLogits(model, TOKENS);
        }
    }

    @AfterAll
    static void close() {
        backend.close();
        arena.close();
    }

    /** Every 2-D tensor encoded as {@code type}, 1-D ones (norms, rope factors) kept F32; also the decoded copy. */
    private static Map<String, TensorView> quantize(GgmlType type, Map<String, TensorView> decodedOut) {
        Map<String, TensorView> out = new LinkedHashMap<>();
        for (TensorView t : f32.values()) {
            if (t.shape().length < 2) {
                out.put(t.name(), t);
                decodedOut.put(t.name(), t);
                continue;
            }
            int n = Math.toIntExact(t.elementCount());
            float[] values = t.data().toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
            if (type == GgmlType.I8) {
                // LLM.int8: codes plus the row absmax in the companion tensor the loader pairs with them.
                int rows = Math.toIntExact(t.rows());
                int cols = Math.toIntExact(t.rowLength());
                MemorySegment codes = arena.allocate(n);
                float[] scb = new float[rows];
                Int8RowWise.quantize(values, 0, rows, cols, codes, scb);
                out.put(t.name(), new TensorView(t.name(), type, t.shape(), codes));
                String scales = ModelWeights.rowScalesName(t.name());
                out.put(scales, TestModels.f32(arena, scales, scb, new long[] {rows}));
                float[] decoded = new float[n];
                Int8RowWise.dequantize(codes, scb, rows, cols, decoded, 0);
                decodedOut.put(t.name(), TestModels.f32(arena, t.name(), decoded, t.shape()));
                continue;
            }
            MemorySegment encoded = arena.allocate(type.byteSize(n));
            type.codec().quantize(values, 0, n, encoded);
            out.put(t.name(), new TensorView(t.name(), type, t.shape(), encoded));
            decodedOut.put(t.name(), TestModels.f32(arena, t.name(), type.codec().dequantize(encoded, n), t.shape()));
        }
        return out;
    }

    @ParameterizedTest(name = "{0}: within {1} of F32")
    // Bounds about 1.3 x what this model measured (seeded, so stable): F16 0.0004, BF16 0.0028,
    // Q8_0 0.0091, I8 (LLM.int8, row-wise) 0.0116, Q6_K 0.029, Q4_K 0.116, Q4_1 0.132, Q4_0 0.140, IQ4_NL 0.127, NF4 0.151, FP4 0.203.
    @CsvSource({
        "F16, 0.0006",
        "BF16, 0.004",
        "Q8_0, 0.012",
        "Q6_K, 0.04",
        "Q4_K, 0.15",
        "Q4_1, 0.17",
        "Q4_0, 0.18",
        "IQ4_NL, 0.165",
        "NF4, 0.2",
        "FP4, 0.27",
        "I8, 0.015",
    })
    void quantizedModel(GgmlType type, double toleranceVsF32) {
        Map<String, TensorView> decoded = new LinkedHashMap<>();
        Map<String, TensorView> quantized = quantize(type, decoded);
        try (LlamaModel model = LlamaModel.fromTensors(CONFIG, quantized, backend)) {
            List<float[]> logits = LlamaModelTest.allLogits(model, TOKENS);
            LlamaModelTest.assertClose(logits, new ReferenceLlama(CONFIG, decoded).logits(TOKENS), 1e-4);

            double error = relativeRmsError(logits, f32Logits);
            assertThat(error).as("%s relative RMS logit error vs F32", type).isLessThan(toleranceVsF32);
        }
    }

    private static double relativeRmsError(List<float[]> actual, List<float[]> expected) {
        double error = 0;
        double norm = 0;
        for (int p = 0; p < expected.size(); p++) {
            for (int i = 0; i < expected.get(p).length; i++) {
                double d = actual.get(p)[i] - expected.get(p)[i];
                error += d * d;
                norm += (double) expected.get(p)[i] * expected.get(p)[i];
            }
        }
        return Math.sqrt(error / norm);
    }
}
