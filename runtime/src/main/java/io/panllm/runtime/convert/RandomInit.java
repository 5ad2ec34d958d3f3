package io.panllm.runtime.convert;

import io.panllm.gguf.GgufArray;
import io.panllm.gguf.GgufValue;
import io.panllm.tensor.GgmlType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A model with the exact shapes of a real one and random weights, for speed and memory
 * benchmarks when the real weights are not at hand. The file says so: {@code panllm.random_init}
 * is true, and reports that show accuracy figures warn that they mean nothing.
 *
 * <p>Weights are drawn N(0, 0.02) (norms 1), which keeps activations finite through the layers.
 * Drawing billions of Gaussians is slow, so each tensor is filled from one shared pool of random
 * values read at a random offset per row: the values are still random, at memory speed.
 */
public final class RandomInit implements ModelSource {

    /** Architectures this can imitate. */
    public enum Shape {
        LLAMA_3_2_1B("llama-3.2-1b", 2048, 16, 32, 8, 8192, 128256, true, 32.0f, 131072),
        LLAMA_3_1_8B("llama-3.1-8b", 4096, 32, 32, 8, 14336, 128256, false, 8.0f, 131072),
        TINY("tiny", 64, 2, 4, 2, 192, 512, true, 0f, 512);

        final String label;
        final int dim;
        final int layers;
        final int heads;
        final int kvHeads;
        final int ffn;
        final int vocab;
        final boolean tied;
        final float ropeScaling;
        final int context;

        Shape(String label, int dim, int layers, int heads, int kvHeads, int ffn, int vocab, boolean tied, float ropeScaling, int context) {
            this.label = label;
            this.dim = dim;
            this.layers = layers;
            this.heads = heads;
            this.kvHeads = kvHeads;
            this.ffn = ffn;
            this.vocab = vocab;
            this.tied = tied;
            this.ropeScaling = ropeScaling;
            this.context = context;
        }

        public static Shape parse(String s) {
            for (Shape shape : values()) {
                if (shape.label.equals(s.toLowerCase(Locale.ROOT))) {
                    return shape;
                }
            }
            throw new IllegalArgumentException("unknown --random-init shape '" + s + "' (known: llama-3.2-1b, llama-3.1-8b, tiny)");
        }

        public int layers() {
            return layers;
        }

        public int gqaRatio() {
            return heads / kvHeads;
        }

        public boolean tied() {
            return tied;
        }
    }

    private static final int POOL = 1 << 22;

    private final Shape shape;
    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<SourceTensor> tensors = new ArrayList<>();
    private final float[] pool;
    private final long seed;
    /** Rows of token_embd and output: the embedded vocabulary's size, else the shape's. */
    private final int vocab;

    /**
     * @param tokenizerMetadata tokenizer keys to embed (tokenizer.ggml.*), or null for a
     *                          placeholder vocabulary of the right size. The embedding and
     *                          output matrices get one row per token of this vocabulary, and
     *                          vocab_size says so (llama.cpp refuses a file where they differ).
     */
    public RandomInit(Shape shape, long seed, Map<String, GgufValue> tokenizerMetadata) {
        this.shape = shape;
        this.seed = seed;
        this.vocab = tokenizerMetadata == null ? shape.vocab : tokenCount(tokenizerMetadata);
        SplittableRandom random = new SplittableRandom(seed);
        pool = new float[POOL];
        for (int i = 0; i < POOL; i++) {
            pool[i] = (float) (gaussian(random) * 0.02);
        }
        String arch = "llama";
        metadata.put("general.architecture", GgufValue.ofString(arch));
        metadata.put("general.name", GgufValue.ofString("random " + shape.label));
        metadata.put("panllm.random_init", GgufValue.ofBool(true));
        metadata.put(arch + ".context_length", GgufValue.ofUInt32(shape.context));
        metadata.put(arch + ".embedding_length", GgufValue.ofUInt32(shape.dim));
        metadata.put(arch + ".block_count", GgufValue.ofUInt32(shape.layers));
        metadata.put(arch + ".feed_forward_length", GgufValue.ofUInt32(shape.ffn));
        metadata.put(arch + ".attention.head_count", GgufValue.ofUInt32(shape.heads));
        metadata.put(arch + ".attention.head_count_kv", GgufValue.ofUInt32(shape.kvHeads));
        metadata.put(arch + ".rope.freq_base", GgufValue.ofFloat32(shape == Shape.TINY ? 10000f : 500000f));
        metadata.put(arch + ".attention.layer_norm_rms_epsilon", GgufValue.ofFloat32(1e-5f));
        metadata.put(arch + ".rope.dimension_count", GgufValue.ofUInt32(shape.dim / shape.heads));
        metadata.put(arch + ".vocab_size", GgufValue.ofUInt32(vocab));
        if (tokenizerMetadata != null) {
            metadata.putAll(tokenizerMetadata);
        } else {
            putPlaceholderVocabulary(shape.vocab);
        }
        addTensors();
    }

    private static int tokenCount(Map<String, GgufValue> tokenizerMetadata) {
        GgufValue tokens = tokenizerMetadata.get("tokenizer.ggml.tokens");
        if (tokens == null || !(tokens.value() instanceof GgufArray array) || array.length() == 0) {
            throw new ConvertException("the vocabulary to embed has no tokenizer.ggml.tokens");
        }
        return array.length();
    }

    /** The vocabulary size: the embedded tokenizer's, or the shape's own. */
    public int vocabSize() {
        return vocab;
    }

    private void putPlaceholderVocabulary(int vocab) {
        // A SentencePiece-style vocabulary: <unk>, <s>, </s>, 256 byte tokens, then "tN" pieces.
        List<String> tokens = new ArrayList<>(vocab);
        float[] scores = new float[vocab];
        int[] types = new int[vocab];
        tokens.add("<unk>");
        tokens.add("<s>");
        tokens.add("</s>");
        types[0] = 2;
        types[1] = 3;
        types[2] = 3;
        for (int b = 0; b < 256 && tokens.size() < vocab; b++) {
            types[tokens.size()] = 6;
            tokens.add(String.format("<0x%02X>", b));
        }
        while (tokens.size() < vocab) {
            int i = tokens.size();
            types[i] = 1;
            scores[i] = -i;
            tokens.add("\u2581t" + i);
        }
        metadata.put("tokenizer.ggml.model", GgufValue.ofString("llama"));
        metadata.put("tokenizer.ggml.tokens", GgufValue.ofArray(GgufArray.ofStrings(tokens)));
        metadata.put("tokenizer.ggml.scores", GgufValue.ofArray(GgufArray.ofFloats(scores)));
        metadata.put("tokenizer.ggml.token_type", GgufValue.ofArray(GgufArray.ofInt32s(types)));
        metadata.put("tokenizer.ggml.bos_token_id", GgufValue.ofUInt32(1));
        metadata.put("tokenizer.ggml.eos_token_id", GgufValue.ofUInt32(2));
        metadata.put("tokenizer.ggml.unknown_token_id", GgufValue.ofUInt32(0));
    }

    private void addTensors() {
        int headDim = shape.dim / shape.heads;
        int kvDim = headDim * shape.kvHeads;
        matrix("token_embd.weight", shape.dim, vocab);
        if (shape.ropeScaling > 0) {
            tensors.add(new SourceTensor("rope_freqs.weight", new long[] {headDim / 2}, GgmlType.F32, null,
                    (first, count, dst) -> fillRopeFactors(dst, headDim)));
        }
        for (int l = 0; l < shape.layers; l++) {
            String p = "blk." + l + ".";
            ones(p + "attn_norm.weight", shape.dim);
            matrix(p + "attn_q.weight", shape.dim, shape.dim);
            matrix(p + "attn_k.weight", shape.dim, kvDim);
            matrix(p + "attn_v.weight", shape.dim, kvDim);
            matrix(p + "attn_output.weight", shape.dim, shape.dim);
            ones(p + "ffn_norm.weight", shape.dim);
            matrix(p + "ffn_gate.weight", shape.dim, shape.ffn);
            matrix(p + "ffn_up.weight", shape.dim, shape.ffn);
            matrix(p + "ffn_down.weight", shape.ffn, shape.dim);
        }
        ones("output_norm.weight", shape.dim);
        if (!shape.tied) {
            matrix("output.weight", shape.dim, vocab);
        }
    }

    /** Llama 3's rope scaling factors (the 3.1/3.2 settings: base 500000, low 1, high 4, original context 8192). */
    private void fillRopeFactors(float[] dst, int headDim) {
        float[] factors = Llama3RopeScaling.factors(500000.0, headDim, shape.ropeScaling, 1.0, 4.0, 8192.0);
        System.arraycopy(factors, 0, dst, 0, factors.length);
    }

    private void ones(String name, int n) {
        tensors.add(new SourceTensor(name, new long[] {n}, GgmlType.F32, null,
                (first, count, dst) -> java.util.Arrays.fill(dst, 0, n, 1f)));
    }

    private void matrix(String name, int rowLength, int rows) {
        long nameSeed = seed ^ name.hashCode() * 0x9E3779B97F4A7C15L;
        tensors.add(new SourceTensor(name, new long[] {rowLength, rows}, GgmlType.F32, null, (first, count, dst) -> {
            for (int r = 0; r < count; r++) {
                int start = (int) Long.remainderUnsigned(mix(nameSeed + first + r), POOL - rowLength);
                System.arraycopy(pool, start, dst, r * rowLength, rowLength);
            }
        }));
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static double gaussian(SplittableRandom r) {
        double u = r.nextDouble();
        double v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
    }

    public Shape shape() {
        return shape;
    }

    @Override
    public Map<String, GgufValue> metadata() {
        return metadata;
    }

    @Override
    public List<SourceTensor> tensors() {
        return tensors;
    }

    @Override
    public String description() {
        return "random weights in the shape of " + shape.label;
    }
}
