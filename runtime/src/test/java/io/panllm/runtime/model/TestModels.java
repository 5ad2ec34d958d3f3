package io.panllm.runtime.model;

import io.panllm.tensor.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** Test models: the shared tiny GGUF and random models built in memory. */
final class TestModels {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private TestModels() {
    }

    static Path tinyGguf() {
        Path p = Path.of(System.getProperty("panllm.data", "../shared/data"), "gguf", "llama-2-tiny-random.gguf");
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException("test model not found: " + p.toAbsolutePath());
        }
        return p;
    }

    /** An F32 tensor of the given ggml shape holding {@code values}. */
    static TensorView f32(Arena arena, String name, float[] values, long... shape) {
        MemorySegment data = arena.allocate(4L * values.length);
        MemorySegment.copy(values, 0, data, FLOAT, 0, values.length);
        return new TensorView(name, GgmlType.F32, shape, data);
    }

    static TensorView randomF32(Arena arena, Random random, String name, double scale, double mean, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] values = new float[(int) n];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (mean + scale * random.nextGaussian());
        }
        return f32(arena, name, values, shape);
    }

    /**
     * Random F32 tensors for {@code config}: matrices scaled by 1/sqrt(inputs) so activations stay
     * near 1, norms near 1. Options: an output matrix of its own or tied embeddings; rope_freqs;
     * q/k/v biases.
     */
    static Map<String, TensorView> random(ModelConfig config, Arena arena, long seed, boolean tied, boolean ropeFreqs,
            boolean biases) {
        Random random = new Random(seed);
        int dim = config.embeddingLength();
        int ffn = config.feedForwardLength();
        int vocab = config.vocabSize();
        Map<String, TensorView> t = new LinkedHashMap<>();
        put(t, randomF32(arena, random, "token_embd.weight", 1.0, 0, dim, vocab));
        for (int l = 0; l < config.blockCount(); l++) {
            String p = "blk." + l + ".";
            put(t, randomF32(arena, random, p + "attn_norm.weight", 0.1, 1, dim));
            put(t, randomF32(arena, random, p + "attn_q.weight", 1 / Math.sqrt(dim), 0, dim, config.queryDim()));
            put(t, randomF32(arena, random, p + "attn_k.weight", 1 / Math.sqrt(dim), 0, dim, config.kvDim()));
            put(t, randomF32(arena, random, p + "attn_v.weight", 1 / Math.sqrt(dim), 0, dim, config.kvDim()));
            if (biases) {
                put(t, randomF32(arena, random, p + "attn_q.bias", 0.5, 0, config.queryDim()));
                put(t, randomF32(arena, random, p + "attn_k.bias", 0.5, 0, config.kvDim()));
                put(t, randomF32(arena, random, p + "attn_v.bias", 0.5, 0, config.kvDim()));
            }
            put(t, randomF32(arena, random, p + "attn_output.weight", 1 / Math.sqrt(config.queryDim()), 0, config.queryDim(), dim));
            put(t, randomF32(arena, random, p + "ffn_norm.weight", 0.1, 1, dim));
            put(t, randomF32(arena, random, p + "ffn_gate.weight", 1 / Math.sqrt(dim), 0, dim, ffn));
            put(t, randomF32(arena, random, p + "ffn_up.weight", 1 / Math.sqrt(dim), 0, dim, ffn));
            put(t, randomF32(arena, random, p + "ffn_down.weight", 1 / Math.sqrt(ffn), 0, ffn, dim));
        }
        put(t, randomF32(arena, random, "output_norm.weight", 0.1, 1, dim));
        if (!tied) {
            put(t, randomF32(arena, random, "output.weight", 1 / Math.sqrt(dim), 0, dim, vocab));
        }
        if (ropeFreqs) {
            // Llama 3 style: factor 1 for high frequencies, up to 8 for the lowest ones.
            float[] factors = new float[config.ropeDimensionCount() / 2];
            for (int i = 0; i < factors.length; i++) {
                factors[i] = 1f + 7f * i / Math.max(1, factors.length - 1);
            }
            put(t, f32(arena, "rope_freqs.weight", factors, factors.length));
        }
        return t;
    }

    private static void put(Map<String, TensorView> tensors, TensorView t) {
        tensors.put(t.name(), t);
    }

    /** A small Llama 3 shaped model: grouped-query attention (8 heads over 2 kv heads), theta 500000. */
    static ModelConfig llama3Shaped() {
        return new ModelConfig("llama", 64, 2, 96, 8, 2, 8, 1e-5f, 500000f, 8, RopeLayout.ADJACENT_PAIRS, 1f, 128, 300);
    }
}
