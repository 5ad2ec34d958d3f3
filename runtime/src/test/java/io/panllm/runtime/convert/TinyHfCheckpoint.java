package io.panllm.runtime.convert;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.panllm.safetensors.SafetensorsDtype;
import io.panllm.safetensors.SafetensorsWriter;
import io.panllm.tensor.HalfFloats;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a tiny Llama checkpoint the way transformers saves one: config.json, model.safetensors
 * with HF tensor names and HF's (unpermuted) Q/K layout, and the Llama 3 tokenizer files. Weights
 * are random, rounded to bfloat16.
 */
final class TinyHfCheckpoint {
    static final int DIM = 32;
    static final int HEADS = 4;
    static final int KV_HEADS = 2;
    static final int HEAD_DIM = DIM / HEADS;
    static final int FFN = 64;
    static final int LAYERS = 2;
    static final int VOCAB = 128256; // the Llama 3 tokenizer's size

    /** Every HF tensor by name, as float values (already bfloat16-exact), in PyTorch shape order. */
    final Map<String, float[]> weights = new LinkedHashMap<>();
    final Map<String, long[]> shapes = new LinkedHashMap<>();
    final boolean tied;

    TinyHfCheckpoint(long seed, boolean tied) {
        this.tied = tied;
        SplittableRandom random = new SplittableRandom(seed);
        put("model.embed_tokens.weight", random, 1.0, VOCAB, DIM);
        for (int l = 0; l < LAYERS; l++) {
            String p = "model.layers." + l + ".";
            norm(p + "input_layernorm.weight", random);
            put(p + "self_attn.q_proj.weight", random, 0.3, DIM, DIM);
            put(p + "self_attn.k_proj.weight", random, 0.3, KV_HEADS * HEAD_DIM, DIM);
            put(p + "self_attn.v_proj.weight", random, 0.3, KV_HEADS * HEAD_DIM, DIM);
            put(p + "self_attn.o_proj.weight", random, 0.2, DIM, DIM);
            norm(p + "post_attention_layernorm.weight", random);
            put(p + "mlp.gate_proj.weight", random, 0.2, FFN, DIM);
            put(p + "mlp.up_proj.weight", random, 0.2, FFN, DIM);
            put(p + "mlp.down_proj.weight", random, 0.2, DIM, FFN);
        }
        norm("model.norm.weight", random);
        if (!tied) {
            put("lm_head.weight", random, 0.3, VOCAB, DIM);
        }
    }

    private void put(String name, SplittableRandom random, double scale, int rows, int columns) {
        float[] v = new float[rows * columns];
        for (int i = 0; i < v.length; i++) {
            v[i] = HalfFloats.fromBf16(HalfFloats.toBf16((float) (random.nextDouble(-1, 1) * scale)));
        }
        weights.put(name, v);
        shapes.put(name, new long[] {rows, columns});
    }

    private void norm(String name, SplittableRandom random) {
        float[] v = new float[DIM];
        for (int i = 0; i < v.length; i++) {
            v[i] = HalfFloats.fromBf16(HalfFloats.toBf16((float) (0.8 + 0.4 * random.nextDouble())));
        }
        weights.put(name, v);
        shapes.put(name, new long[] {DIM});
    }

    /** True for the linear layers bitsandbytes quantizes (all but embeddings and lm_head). */
    static boolean isQuantizable(String name) {
        return name.startsWith("model.layers.") && name.endsWith("_proj.weight");
    }

    /** Writes the checkpoint, BF16 throughout, into {@code dir}. */
    Path write(Path dir) throws Exception {
        Files.createDirectories(dir);
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = json.createObjectNode();
        config.putArray("architectures").add("LlamaForCausalLM");
        config.put("model_type", "llama");
        config.put("hidden_size", DIM);
        config.put("intermediate_size", FFN);
        config.put("num_hidden_layers", LAYERS);
        config.put("num_attention_heads", HEADS);
        config.put("num_key_value_heads", KV_HEADS);
        config.put("head_dim", HEAD_DIM);
        config.put("rms_norm_eps", 1e-5);
        config.put("rope_theta", 500000.0);
        ObjectNode scaling = config.putObject("rope_scaling");
        scaling.put("factor", 32.0).put("low_freq_factor", 1.0).put("high_freq_factor", 4.0)
                .put("original_max_position_embeddings", 8192).put("rope_type", "llama3");
        config.put("max_position_embeddings", 131072);
        config.put("vocab_size", VOCAB);
        config.put("tie_word_embeddings", tied);
        config.put("bos_token_id", 128000);
        config.putArray("eos_token_id").add(128001).add(128009);
        config.put("torch_dtype", "bfloat16");
        json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), config);

        SafetensorsWriter out = new SafetensorsWriter().putMetadata("format", "pt");
        for (Map.Entry<String, float[]> e : weights.entrySet()) {
            String name = e.getKey();
            out.add(name, SafetensorsDtype.BF16, shapes.get(name), SafetensorsWriter.bytes(bf16Bytes(e.getValue())));
        }
        out.write(dir.resolve("model.safetensors"));
        Path tokenizers = Path.of(System.getProperty("panllm.data"), "tokenizers", "llama3");
        Files.copy(tokenizers.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.copy(tokenizers.resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"));
        return dir;
    }

    private static byte[] bf16Bytes(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(2 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putShort(HalfFloats.toBf16(v));
        }
        return b.array();
    }
}
