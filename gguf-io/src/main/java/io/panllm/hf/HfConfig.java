package io.panllm.hf;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The parts of a Hugging Face {@code config.json} a Llama-family model needs, with transformers'
 * LlamaConfig defaults where a key may be absent (num_key_value_heads = num_attention_heads,
 * head_dim = hidden_size / num_attention_heads, rms_norm_eps 1e-6, rope_theta 10000,
 * max_position_embeddings 2048, tie_word_embeddings false, hidden_act silu).
 *
 * <p>Both layouts of RoPE settings are read: transformers 4.x writes top-level {@code rope_theta}
 * and {@code rope_scaling} ({@code rope_type} or the older {@code type}); transformers 5 writes
 * {@code rope_parameters} holding {@code rope_theta}, {@code rope_type} and the scaling keys. Keys
 * whose value changes the model's math in a way panllm does not implement (a rope type other
 * than default, linear and llama3, partial rotary embeddings, biases, sliding windows, ...) are
 * listed in {@link #unsupported()}; {@link #requireSupported()} refuses them by name, so that no
 * such model is ever converted with a silently wrong default.
 *
 * @param bosTokenIds bos_token_id as a list (config files hold an int, a list or null)
 * @param eosTokenIds eos_token_id as a list (Llama 3 instruct lists three)
 * @param torchDtype torch_dtype (or the newer key dtype), e.g. "bfloat16"; null if absent
 * @param ropeScaling null when rope_scaling is absent or null
 * @param quantizationConfig null when the checkpoint is not quantized
 * @param unsupported one line per key that changes the math and that panllm does not implement,
 *     naming the key and its value; empty for a model panllm computes exactly
 */
public record HfConfig(
        List<String> architectures,
        String modelType,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int headDim,
        double rmsNormEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        int maxPositionEmbeddings,
        int vocabSize,
        boolean tieWordEmbeddings,
        List<Integer> bosTokenIds,
        List<Integer> eosTokenIds,
        String torchDtype,
        String hiddenAct,
        QuantizationConfig quantizationConfig,
        List<String> unsupported) {

    /**
     * rope_scaling. For Llama 3 ({@code rope_type} "llama3"): factor, low_freq_factor,
     * high_freq_factor and original_max_position_embeddings; other types keep type and factor (the
     * rest NaN / 0).
     */
    public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
                              int originalMaxPositionEmbeddings) {
        public boolean isLlama3() {
            return "llama3".equals(type);
        }
    }

    /**
     * quantization_config. For bitsandbytes ({@code quant_method} "bitsandbytes"): 4-bit or 8-bit,
     * the 4-bit type ("nf4" or "fp4"), double quantization and the compute dtype;
     * {@code skipModules} is llm_int8_skip_modules (modules left unquantized), empty if absent.
     */
    public record QuantizationConfig(String quantMethod, boolean loadIn4bit, boolean loadIn8bit, String bnb4bitQuantType,
                                     boolean bnb4bitUseDoubleQuant, String bnb4bitComputeDtype, List<String> skipModules) {
        public boolean isBitsAndBytes() {
            return "bitsandbytes".equals(quantMethod);
        }
    }

    public static final String FILE_NAME = "config.json";
    private static final long MAX_BYTES = 10_000_000L;
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build())
            .build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    public HfConfig {
        architectures = List.copyOf(architectures);
        bosTokenIds = List.copyOf(bosTokenIds);
        eosTokenIds = List.copyOf(eosTokenIds);
        unsupported = List.copyOf(unsupported);
    }

    /** Throws naming every key in {@link #unsupported()}; returns this when there is none. */
    public HfConfig requireSupported(String where) {
        if (!unsupported.isEmpty()) {
            throw new HfConfigException(where + ": " + String.join("; ", unsupported)
                    + " (not implemented by panllm, which would compute a different model)");
        }
        return this;
    }

    /** Reads {@code config.json}, or the config.json inside a directory. */
    public static HfConfig read(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve(FILE_NAME) : path;
        try {
            long size = Files.size(file);
            if (size > MAX_BYTES) {
                throw new HfConfigException(file + ": " + size + " bytes is too large for a config.json");
            }
            return parse(Files.readString(file), file.toString());
        } catch (java.nio.file.NoSuchFileException e) {
            throw new HfConfigException(file + ": no such file");
        } catch (IOException e) {
            throw new HfConfigException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** Parses config.json text; {@code where} names its origin in messages. */
    public static HfConfig parse(String json, String where) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new HfConfigException(where + ": malformed JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new HfConfigException(where + ": not a JSON object");
        }
        Reader r = new Reader(root, where);
        int hiddenSize = r.positiveInt("hidden_size");
        int heads = r.positiveInt("num_attention_heads");
        int kvHeads = r.has("num_key_value_heads") ? r.positiveInt("num_key_value_heads") : heads;
        if (heads % kvHeads != 0) {
            throw new HfConfigException(where + ": num_attention_heads " + heads
                    + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        int headDim;
        if (r.has("head_dim")) {
            headDim = r.positiveInt("head_dim");
        } else if (hiddenSize % heads == 0) {
            headDim = hiddenSize / heads;
        } else {
            throw new HfConfigException(where + ": hidden_size " + hiddenSize + " is not a multiple of num_attention_heads "
                    + heads + " and head_dim is not given");
        }
        String torchDtype = r.has("torch_dtype") ? r.string("torch_dtype", null) : r.string("dtype", null);
        List<String> unsupported = new ArrayList<>();
        Rope rope = Rope.read(r, unsupported);
        MathKeys.check(root, unsupported);
        QuantizationConfig quantization = quantization(r.object("quantization_config"), where + ": quantization_config",
                unsupported);
        return new HfConfig(
                r.strings("architectures"),
                r.string("model_type", null),
                hiddenSize,
                r.positiveInt("intermediate_size"),
                r.positiveInt("num_hidden_layers"),
                heads,
                kvHeads,
                headDim,
                r.positiveDouble("rms_norm_eps", 1e-6),
                rope.theta(),
                rope.scaling(),
                r.has("max_position_embeddings") ? r.positiveInt("max_position_embeddings") : 2048,
                r.positiveInt("vocab_size"),
                r.bool("tie_word_embeddings", false),
                r.ints("bos_token_id"),
                r.ints("eos_token_id"),
                torchDtype,
                r.string("hidden_act", "silu"),
                quantization,
                unsupported);
    }

    private static QuantizationConfig quantization(JsonNode node, String where, List<String> unsupported) {
        if (node == null) {
            return null;
        }
        Reader r = new Reader(node, where);
        // BitsAndBytesConfig.to_dict writes both the public flags and their private fields; either may be missing.
        boolean in4 = r.bool("load_in_4bit", r.bool("_load_in_4bit", false));
        boolean in8 = r.bool("load_in_8bit", r.bool("_load_in_8bit", false));
        String method = r.string("quant_method", in4 || in8 ? "bitsandbytes" : null);
        String quantType = r.string("bnb_4bit_quant_type", "fp4"); // bitsandbytes' own default
        if (in4 && !quantType.equals("nf4") && !quantType.equals("fp4")) {
            throw new HfConfigException(where + ": bnb_4bit_quant_type '" + quantType + "' is neither nf4 nor fp4");
        }
        if (in4 && in8) {
            throw new HfConfigException(where + ": load_in_4bit and load_in_8bit are both true");
        }
        if (method != null && !method.equals("bitsandbytes")) {
            unsupported.add("quantization_config.quant_method '" + method + "' (panllm reads bitsandbytes checkpoints)");
        }
        String storage = r.string("bnb_4bit_quant_storage", "uint8");
        if (in4 && !storage.equals("uint8")) {
            unsupported.add("quantization_config.bnb_4bit_quant_storage '" + storage + "' (panllm reads uint8 storage)");
        }
        return new QuantizationConfig(method, in4, in8, quantType, r.bool("bnb_4bit_use_double_quant", false),
                r.string("bnb_4bit_compute_dtype", "float32"), r.strings("llm_int8_skip_modules"));
    }

    /** Typed access to one JSON object; a present key of the wrong type is an error naming it. */
    record Reader(JsonNode node, String where) {
        boolean has(String key) {
            JsonNode v = node.get(key);
            return v != null && !v.isNull();
        }

        private HfConfigException wrong(String key, String expected) {
            return new HfConfigException(where + ": '" + key + "' must be " + expected + ", got " + node.get(key));
        }

        int positiveInt(String key) {
            if (!has(key)) {
                throw new HfConfigException(where + ": missing '" + key + "'");
            }
            JsonNode v = node.get(key);
            if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() <= 0) {
                throw wrong(key, "a positive 32-bit integer");
            }
            return v.intValue();
        }

        double positiveDouble(String key, double absent) {
            if (!has(key)) {
                return absent;
            }
            JsonNode v = node.get(key);
            if (!v.isNumber() || !(v.doubleValue() > 0) || Double.isInfinite(v.doubleValue())) {
                throw wrong(key, "a positive number");
            }
            return v.doubleValue();
        }

        boolean bool(String key, boolean absent) {
            if (!has(key)) {
                return absent;
            }
            if (!node.get(key).isBoolean()) {
                throw wrong(key, "true or false");
            }
            return node.get(key).booleanValue();
        }

        String string(String key, String absent) {
            if (!has(key)) {
                return absent;
            }
            if (!node.get(key).isTextual()) {
                throw wrong(key, "a string");
            }
            return node.get(key).textValue();
        }

        JsonNode object(String key) {
            if (!has(key)) {
                return null;
            }
            if (!node.get(key).isObject()) {
                throw wrong(key, "an object");
            }
            return node.get(key);
        }

        List<String> strings(String key) {
            List<String> out = new ArrayList<>();
            if (!has(key)) {
                return out;
            }
            JsonNode v = node.get(key);
            if (!v.isArray()) {
                throw wrong(key, "a list of strings");
            }
            for (JsonNode e : v) {
                if (!e.isTextual()) {
                    throw wrong(key, "a list of strings");
                }
                out.add(e.textValue());
            }
            return out;
        }

        /** An int, a list of ints, or absent/null (an empty list). */
        List<Integer> ints(String key) {
            List<Integer> out = new ArrayList<>();
            if (!has(key)) {
                return out;
            }
            JsonNode v = node.get(key);
            for (JsonNode e : v.isArray() ? v : List.of(v)) {
                if (!e.isIntegralNumber() || !e.canConvertToInt() || e.intValue() < 0) {
                    throw wrong(key, "a token id or a list of token ids");
                }
                out.add(e.intValue());
            }
            return out;
        }
    }

    /** The first bos token id, or -1 when none is configured. */
    public int bosTokenId() {
        return bosTokenIds.isEmpty() ? -1 : bosTokenIds.getFirst();
    }

    /** Whether the checkpoint's Linear weights are bitsandbytes 4-bit. */
    public boolean isBnb4bit() {
        return quantizationConfig != null && quantizationConfig.isBitsAndBytes() && quantizationConfig.loadIn4bit();
    }

    /** Whether the checkpoint's Linear weights are bitsandbytes LLM.int8. */
    public boolean isBnb8bit() {
        return quantizationConfig != null && quantizationConfig.isBitsAndBytes() && quantizationConfig.loadIn8bit();
    }
}
