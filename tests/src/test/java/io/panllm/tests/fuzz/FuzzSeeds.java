package io.panllm.tests.fuzz;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.panllm.gguf.GgufArray;
import io.panllm.gguf.GgufValue;
import io.panllm.gguf.GgufWriter;
import io.panllm.runtime.convert.Converter;
import io.panllm.runtime.convert.GgufSource;
import io.panllm.runtime.convert.HfSource;
import io.panllm.runtime.convert.QuantPolicy;
import io.panllm.runtime.convert.TargetType;
import io.panllm.safetensors.SafetensorsDtype;
import io.panllm.safetensors.SafetensorsWriter;
import io.panllm.tensor.GgmlType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The inputs the fuzzer mutates: the real files of the shared data (a GGUF model, vocabulary-only
 * GGUFs, the llama2.c stories260K) and small models built here in every layout panllm reads
 * (GGUF F32 / Q8_0 / INT8 with a SentencePiece vocabulary, GGUF with a byte-level BPE vocabulary, a
 * Hugging Face safetensors checkpoint), small so that a case takes milliseconds.
 */
public final class FuzzSeeds {
    /** What a seed is, which decides how a mutant of it is opened. */
    enum Kind { GGUF, SAFETENSORS, LLAMA2C }

    /**
     * One seed: the file to mutate and, for a checkpoint that spans files, the folder of its
     * companions (llama2.c tokenizer.bin; config.json and tokenizer.json of a HF checkpoint).
     *
     * @param weight how often it is picked, relative to the others
     */
    record Seed(String name, Kind kind, byte[] bytes, Path companions, int weight) {
    }

    public static final int DIM = 32;
    static final int HEADS = 4;
    static final int KV_HEADS = 2;
    static final int FFN = 64;
    static final int LAYERS = 2;

    private FuzzSeeds() {
    }

    static List<Seed> build(Path data, Path dir) throws IOException {
        List<Seed> seeds = new ArrayList<>();
        Path spm = dir.resolve("tiny-spm-f32.gguf");
        writeTinyGguf(spm);
        seeds.add(gguf("tiny-spm-f32", spm, 30));
        seeds.add(gguf("tiny-spm-q8_0", convert(spm, dir.resolve("tiny-spm-q8_0.gguf"), TargetType.Q8_0), 15));
        seeds.add(gguf("tiny-spm-int8", convert(spm, dir.resolve("tiny-spm-int8.gguf"), TargetType.INT8), 10));
        seeds.add(gguf("tiny-spm-q4_k_m", convert(spm, dir.resolve("tiny-spm-q4_k_m.gguf"), TargetType.Q4_K_M), 5));
        Path hf = dir.resolve("tiny-hf");
        writeTinyHf(hf);
        seeds.add(new Seed("tiny-hf", Kind.SAFETENSORS, Files.readAllBytes(hf.resolve("model.safetensors")), hf, 25));
        Path bpe = dir.resolve("tiny-bpe-f16.gguf");
        try (HfSource source = new HfSource(hf)) {
            Converter.convert(source, QuantPolicy.forSource(source, TargetType.F16, null, null), bpe, (i, n, name, t, done, total) -> { });
        }
        seeds.add(gguf("tiny-bpe-f16", bpe, 15));
        seeds.add(gguf("llama-2-tiny-random", data.resolve("gguf/llama-2-tiny-random.gguf"), 1));
        seeds.add(gguf("vocab-llama-spm", data.resolve("gguf/vocab/ggml-vocab-llama-spm.gguf"), 1));
        seeds.add(gguf("vocab-gpt-2", data.resolve("gguf/vocab/ggml-vocab-gpt-2.gguf"), 1));
        Path llama2c = dir.resolve("llama2c");
        Files.createDirectories(llama2c);
        Files.copy(data.resolve("llama2c/tok512.bin"), llama2c.resolve("tokenizer.bin"));
        seeds.add(new Seed("stories260K", Kind.LLAMA2C, Files.readAllBytes(data.resolve("llama2c/stories260K_q80.bin")), llama2c, 8));
        return seeds;
    }

    private static Seed gguf(String name, Path file, int weight) throws IOException {
        return new Seed(name, Kind.GGUF, Files.readAllBytes(file), null, weight);
    }

    private static Path convert(Path in, Path out, TargetType type) throws IOException {
        try (GgufSource source = new GgufSource(in)) {
            Converter.convert(source, QuantPolicy.forSource(source, type, null, null), out, (i, n, name, t, done, total) -> { });
        }
        return out;
    }

    /** A SentencePiece vocabulary: unk, bos, eos, the 256 byte tokens and a few pieces. */
    static List<String> spmTokens() {
        List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
        }
        for (String piece : List.of("\u2581", "\u2581the", "\u2581a", "\u2581cat", "\u2581Once", "\u2581upon", "\u2581time", "e", "t", "a",
                "o", "n", "\u2581H", "ello", "\u2581world", "is", "\u2581w", "or", "ld", "he")) {
            tokens.add(piece);
        }
        return tokens;
    }

    /** A 2-block Llama with a 279-token SentencePiece vocabulary, F32 weights, in GGUF. */
    public static void writeTinyGguf(Path file) throws IOException {
        List<String> tokens = spmTokens();
        int vocab = tokens.size();
        float[] scores = new float[vocab];
        int[] types = new int[vocab];
        for (int i = 0; i < vocab; i++) {
            scores[i] = -i;
            types[i] = i == 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1;
        }
        GgufWriter w = new GgufWriter()
                .putString("general.architecture", "llama")
                .putString("general.name", "fuzz seed")
                .putUInt32("llama.context_length", 64)
                .putUInt32("llama.embedding_length", DIM)
                .putUInt32("llama.block_count", LAYERS)
                .putUInt32("llama.feed_forward_length", FFN)
                .putUInt32("llama.rope.dimension_count", DIM / HEADS)
                .putUInt32("llama.attention.head_count", HEADS)
                .putUInt32("llama.attention.head_count_kv", KV_HEADS)
                .putFloat32("llama.attention.layer_norm_rms_epsilon", 1e-5f)
                .putFloat32("llama.rope.freq_base", 10000f)
                .putString("tokenizer.ggml.model", "llama")
                .put("tokenizer.ggml.tokens", GgufValue.ofArray(GgufArray.ofStrings(tokens)))
                .put("tokenizer.ggml.scores", GgufValue.ofArray(GgufArray.ofFloats(scores)))
                .put("tokenizer.ggml.token_type", GgufValue.ofArray(GgufArray.ofInt32s(types)))
                .putUInt32("tokenizer.ggml.bos_token_id", 1)
                .putUInt32("tokenizer.ggml.eos_token_id", 2)
                .putUInt32("tokenizer.ggml.unknown_token_id", 0);
        SplittableRandom random = new SplittableRandom(1);
        int kvDim = KV_HEADS * DIM / HEADS;
        matrix(w, "token_embd.weight", DIM, vocab, random);
        for (int l = 0; l < LAYERS; l++) {
            String p = "blk." + l + ".";
            vector(w, p + "attn_norm.weight", DIM);
            matrix(w, p + "attn_q.weight", DIM, DIM, random);
            matrix(w, p + "attn_k.weight", DIM, kvDim, random);
            matrix(w, p + "attn_v.weight", DIM, kvDim, random);
            matrix(w, p + "attn_output.weight", DIM, DIM, random);
            vector(w, p + "ffn_norm.weight", DIM);
            matrix(w, p + "ffn_gate.weight", DIM, FFN, random);
            matrix(w, p + "ffn_up.weight", DIM, FFN, random);
            matrix(w, p + "ffn_down.weight", FFN, DIM, random);
        }
        vector(w, "output_norm.weight", DIM);
        matrix(w, "output.weight", DIM, vocab, random);
        w.write(file, null);
    }

    private static void matrix(GgufWriter w, String name, int columns, int rows, SplittableRandom random) {
        float[] v = new float[columns * rows];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextDouble(-0.5, 0.5);
        }
        w.addTensor(name, GgmlType.F32, new long[] {columns, rows}, arena -> arena.allocateFrom(
                java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), v));
    }

    private static void vector(GgufWriter w, String name, int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        w.addTensor(name, GgmlType.F32, new long[] {n}, arena -> arena.allocateFrom(
                java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), v));
    }

    /** GPT-2's byte-to-character map of byte-level BPE: printable bytes stand for themselves. */
    static String byteLevelChar(int b) {
        int n = 0;
        for (int x = 0; x < 256; x++) {
            boolean printable = x >= '!' && x <= '~' || x >= 0xA1 && x <= 0xAC || x >= 0xAE && x <= 0xFF;
            if (x == b) {
                return new String(Character.toChars(printable ? x : 256 + n));
            }
            if (!printable) {
                n++;
            }
        }
        throw new IllegalArgumentException("not a byte: " + b);
    }

    /** A Hugging Face checkpoint as transformers saves one, with a 300-token byte-level BPE tokenizer. */
    static void writeTinyHf(Path dir) throws IOException {
        Files.createDirectories(dir);
        ObjectMapper json = new ObjectMapper();
        List<String> vocab = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            vocab.add(byteLevelChar(b));
        }
        String space = byteLevelChar(' ');
        List<String[]> merges = List.of(new String[] {space, "t"}, new String[] {"h", "e"}, new String[] {space + "t", "he"},
                new String[] {"o", "n"}, new String[] {"c", "e"}, new String[] {space, "a"}, new String[] {"i", "s"},
                new String[] {space, "w"}, new String[] {"o", "r"}, new String[] {"l", "d"});
        for (String[] m : merges) {
            vocab.add(m[0] + m[1]);
        }
        ObjectNode tok = json.createObjectNode();
        ObjectNode model = tok.putObject("model");
        model.put("type", "BPE");
        ObjectNode v = model.putObject("vocab");
        for (int i = 0; i < vocab.size(); i++) {
            v.put(vocab.get(i), i);
        }
        var mergeArray = model.putArray("merges");
        merges.forEach(m -> mergeArray.add(m[0] + " " + m[1]));
        int bos = vocab.size();
        var added = tok.putArray("added_tokens");
        added.addObject().put("id", bos).put("content", "<|begin_of_text|>").put("special", true);
        added.addObject().put("id", bos + 1).put("content", "<|end_of_text|>").put("special", true);
        ObjectNode pre = tok.putObject("pre_tokenizer");
        pre.put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", true);
        json.writeValue(dir.resolve("tokenizer.json").toFile(), tok);
        ObjectNode tokConfig = json.createObjectNode();
        tokConfig.put("bos_token", "<|begin_of_text|>").put("eos_token", "<|end_of_text|>").put("add_bos_token", true);
        json.writeValue(dir.resolve("tokenizer_config.json").toFile(), tokConfig);
        int vocabSize = vocab.size() + 2;

        ObjectNode config = json.createObjectNode();
        config.putArray("architectures").add("LlamaForCausalLM");
        config.put("model_type", "llama");
        config.put("hidden_size", DIM);
        config.put("intermediate_size", FFN);
        config.put("num_hidden_layers", LAYERS);
        config.put("num_attention_heads", HEADS);
        config.put("num_key_value_heads", KV_HEADS);
        config.put("rms_norm_eps", 1e-5);
        config.put("rope_theta", 500000.0);
        config.put("max_position_embeddings", 64);
        config.put("vocab_size", vocabSize);
        config.put("tie_word_embeddings", false);
        config.put("bos_token_id", bos);
        config.put("eos_token_id", bos + 1);
        config.put("torch_dtype", "bfloat16");
        json.writeValue(dir.resolve("config.json").toFile(), config);

        SplittableRandom random = new SplittableRandom(2);
        int kvDim = KV_HEADS * DIM / HEADS;
        SafetensorsWriter out = new SafetensorsWriter().putMetadata("format", "pt");
        bf16(out, "model.embed_tokens.weight", random, vocabSize, DIM);
        for (int l = 0; l < LAYERS; l++) {
            String p = "model.layers." + l + ".";
            bf16(out, p + "input_layernorm.weight", null, DIM);
            bf16(out, p + "self_attn.q_proj.weight", random, DIM, DIM);
            bf16(out, p + "self_attn.k_proj.weight", random, kvDim, DIM);
            bf16(out, p + "self_attn.v_proj.weight", random, kvDim, DIM);
            bf16(out, p + "self_attn.o_proj.weight", random, DIM, DIM);
            bf16(out, p + "post_attention_layernorm.weight", null, DIM);
            bf16(out, p + "mlp.gate_proj.weight", random, FFN, DIM);
            bf16(out, p + "mlp.up_proj.weight", random, FFN, DIM);
            bf16(out, p + "mlp.down_proj.weight", random, DIM, FFN);
        }
        bf16(out, "model.norm.weight", null, DIM);
        bf16(out, "lm_head.weight", random, vocabSize, DIM);
        out.write(dir.resolve("model.safetensors"));
    }

    /** A BF16 tensor: random values in [-0.5, 0.5), or ones (a norm) where random is null. */
    private static void bf16(SafetensorsWriter out, String name, SplittableRandom random, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        ByteBuffer b = ByteBuffer.allocate((int) (2 * n)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            float x = random == null ? 1f : (float) random.nextDouble(-0.5, 0.5);
            b.putShort((short) (Float.floatToRawIntBits(x) >>> 16));
        }
        out.add(name, SafetensorsDtype.BF16, shape, SafetensorsWriter.bytes(b.array()));
    }
}
