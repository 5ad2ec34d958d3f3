package io.panllm.runtime.cuda;

import io.panllm.runtime.model.ModelConfig;
import io.panllm.runtime.model.TensorView;
import io.panllm.tensor.GgmlType;
import io.panllm.tensor.Int8RowWise;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** Random Llama-family tensors in a chosen matrix type, encoded with the project's codecs. */
final class RandomLlama {
    private RandomLlama() {
    }

    /**
     * Matrices of {@code type} scaled by 1/sqrt(inputs), norms near 1, F32 vectors; optionally
     * q/k/v biases and rope_freqs.
     */
    static Map<String, TensorView> tensors(ModelConfig c, GgmlType type, Arena arena, long seed, boolean biases,
            boolean ropeFreqs) {
        Random random = new Random(seed);
        Map<String, TensorView> t = new LinkedHashMap<>();
        int dim = c.embeddingLength();
        put(t, tensor(arena, random, "token_embd.weight", type, 1.0, 0, dim, c.vocabSize()));
        put(t, tensor(arena, random, "output_norm.weight", GgmlType.F32, 0.1, 1, dim));
        put(t, tensor(arena, random, "output.weight", type, 1 / Math.sqrt(dim), 0, dim, c.vocabSize()));
        if (ropeFreqs) {
            put(t, tensor(arena, random, "rope_freqs.weight", GgmlType.F32, 0.5, 2, c.ropeDimensionCount() / 2));
        }
        for (int l = 0; l < c.blockCount(); l++) {
            String p = "blk." + l + ".";
            put(t, tensor(arena, random, p + "attn_norm.weight", GgmlType.F32, 0.1, 1, dim));
            put(t, tensor(arena, random, p + "attn_q.weight", type, 1 / Math.sqrt(dim), 0, dim, c.queryDim()));
            put(t, tensor(arena, random, p + "attn_k.weight", type, 1 / Math.sqrt(dim), 0, dim, c.kvDim()));
            put(t, tensor(arena, random, p + "attn_v.weight", type, 1 / Math.sqrt(dim), 0, dim, c.kvDim()));
            if (biases) {
                put(t, tensor(arena, random, p + "attn_q.bias", GgmlType.F32, 0.2, 0, c.queryDim()));
                put(t, tensor(arena, random, p + "attn_k.bias", GgmlType.F32, 0.2, 0, c.kvDim()));
                put(t, tensor(arena, random, p + "attn_v.bias", GgmlType.F32, 0.2, 0, c.kvDim()));
            }
            put(t, tensor(arena, random, p + "attn_output.weight", type, 1 / Math.sqrt(c.queryDim()), 0, c.queryDim(), dim));
            put(t, tensor(arena, random, p + "ffn_norm.weight", GgmlType.F32, 0.1, 1, dim));
            int ffn = c.feedForwardLength();
            put(t, tensor(arena, random, p + "ffn_gate.weight", type, 1 / Math.sqrt(dim), 0, dim, ffn));
            put(t, tensor(arena, random, p + "ffn_up.weight", type, 1 / Math.sqrt(dim), 0, dim, ffn));
            put(t, tensor(arena, random, p + "ffn_down.weight", type, 1 / Math.sqrt(ffn), 0, ffn, dim));
        }
        return t;
    }

    private static void put(Map<String, TensorView> t, TensorView v) {
        t.put(v.name(), v);
    }

    /** Gaussian values (mean, scale) of the given ggml shape, encoded as {@code type}. */
    static TensorView tensor(Arena arena, Random random, String name, GgmlType type, double scale, double mean,
            long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] values = new float[Math.toIntExact(n)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (mean + scale * random.nextGaussian());
        }
        MemorySegment data = arena.allocate(type.byteSize(n), 16);
        if (type == GgmlType.I8 && shape.length >= 2) { // LLM.int8: codes and the row absmax
            int rows = Math.toIntExact(n / shape[0]);
            float[] scb = new float[rows];
            Int8RowWise.quantize(values, 0, rows, Math.toIntExact(shape[0]), data, scb);
            return new TensorView(name, type, shape, data).withRowScales(scb);
        }
        type.codec().quantize(values, 0, values.length, data);
        return new TensorView(name, type, shape, data);
    }
}
