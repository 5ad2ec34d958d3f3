package io.panllm.hf;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The parts of a Hugging Face {@code config.json} a Llama-family conversion needs, with
 * transformers' LlamaConfig defaults where a key is absent.
 *
 * @param numKeyValueHeads  defaults to numAttentionHeads
 * @param headDim           defaults to hiddenSize / numAttentionHeads
 * @param explicitHeadDim   whether config.json gave head_dim (convert_hf_to_gguf.py then writes key_length)
 * @param ropeScaling       null when absent
 * @param bosTokenIds       empty when absent; a list when the config gives one
 * @param torchDtype        "bfloat16", "float16", "float32" ... or null
 * @param quantization      the bitsandbytes quantization_config, or null
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
        boolean explicitHeadDim,
        double rmsNormEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        int maxPositionEmbeddings,
        int vocabSize,
        boolean tieWordEmbeddings,
        List<Integer> bosTokenIds,
        List<Integer> eosTokenIds,
        String torchDtype,
        QuantizationConfig quantization) {

    public static final String FILE_NAME = "config.json";
    private static final long MAX_BYTES = 16L << 20;

    /**
     * rope_scaling. For "llama3": factor, low/high_freq_factor and original_max_position_embeddings
     * (defaults 8.0, 1.0, 4.0, 8192 as convert_hf_to_gguf.py assumes them).
     *
     * @param type rope_type (or the older "type"): "llama3", "linear", ...
     */
    public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
            int originalMaxPositionEmbeddings) {
        public boolean isLlama3() {
            return "llama3".equalsIgnoreCase(type);
        }
    }

    /**
     * quantization_config of a bitsandbytes checkpoint.
     *
     * @param quantMethod "bitsandbytes" (other methods are recorded but not interpreted)
     * @param bnb4bitQuantType "nf4" or "fp4" (transformers' default "fp4")
     * @param bnb4bitComputeDtype "bfloat16", "float16", "float32"
     */
    public record QuantizationConfig(String quantMethod, boolean loadIn4bit, boolean loadIn8bit, String bnb4bitQuantType,
            boolean bnb4bitUseDoubleQuant, String bnb4bitComputeDtype) {
    }

    /** Reads {@code config.json} from a checkpoint directory or the file itself. */
    public static HfConfig read(Path fileOrDirectory) {
        Path file = Files.isDirectory(fileOrDirectory) ? fileOrDirectory.resolve(FILE_NAME) : fileOrDirectory;
        JsonNode root;
        try {
            if (Files.size(file) > MAX_BYTES) {
                throw new HfCheckpointException(file + ": " + Files.size(file) + " bytes is too large for a config.json");
            }
            root = new ObjectMapper().readTree(file.toFile());
        } catch (NoSuchFileException e) {
            throw new HfCheckpointException(file + ": no such file");
        } catch (JacksonException e) {
            throw new HfCheckpointException(file + ": not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new HfCheckpointException(file + ": cannot read: " + e.getMessage(), e);
        }
        return parse(root, file.toString());
    }

    /** Interprets a parsed config.json; {@code source} names it in messages. */
    public static HfConfig parse(JsonNode root, String source) {
        if (root == null || !root.isObject()) {
            throw new HfCheckpointException(source + ": not a JSON object");
        }
        Fields f = new Fields(root, source);
        int hidden = f.requiredInt("hidden_size");
        int heads = f.requiredInt("num_attention_heads");
        if (hidden % heads != 0 && !root.hasNonNull("head_dim")) {
            throw new HfCheckpointException(source + ": hidden_size " + hidden + " is not a multiple of num_attention_heads "
                    + heads + " and no head_dim is given");
        }
        int kvHeads = f.optionalInt("num_key_value_heads", heads);
        if (heads % kvHeads != 0) {
            throw new HfCheckpointException(source + ": num_attention_heads " + heads
                    + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        int headDim = f.optionalInt("head_dim", hidden / heads);
        List<String> architectures = new ArrayList<>();
        JsonNode arch = root.get("architectures");
        if (arch != null && arch.isArray()) {
            arch.forEach(a -> architectures.add(a.asText()));
        }
        return new HfConfig(
                List.copyOf(architectures),
                f.optionalString("model_type"),
                hidden,
                f.requiredInt("intermediate_size"),
                f.requiredInt("num_hidden_layers"),
                heads,
                kvHeads,
                headDim,
                root.hasNonNull("head_dim"),
                f.optionalDouble("rms_norm_eps", 1e-6),
                f.optionalDouble("rope_theta", 10000.0),
                ropeScaling(root.get("rope_scaling"), source),
                f.optionalInt("max_position_embeddings", 2048),
                f.requiredInt("vocab_size"),
                f.optionalBoolean("tie_word_embeddings", false),
                f.ids("bos_token_id"),
                f.ids("eos_token_id"),
                f.optionalString("torch_dtype") != null ? f.optionalString("torch_dtype") : f.optionalString("dtype"),
                quantization(root.get("quantization_config"), source));
    }

    private static RopeScaling ropeScaling(JsonNode node, String source) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isObject()) {
            throw new HfCheckpointException(source + ": rope_scaling is not an object");
        }
        Fields f = new Fields(node, source + " rope_scaling");
        String type = f.optionalString("rope_type");
        return new RopeScaling(type != null ? type : f.optionalString("type"),
                f.optionalDouble("factor", 8.0),
                f.optionalDouble("low_freq_factor", 1.0),
                f.optionalDouble("high_freq_factor", 4.0),
                f.optionalInt("original_max_position_embeddings", 8192));
    }

    private static QuantizationConfig quantization(JsonNode node, String source) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isObject()) {
            throw new HfCheckpointException(source + ": quantization_config is not an object");
        }
        Fields f = new Fields(node, source + " quantization_config");
        String quantType = f.optionalString("bnb_4bit_quant_type");
        return new QuantizationConfig(f.optionalString("quant_method"),
                f.optionalBoolean("load_in_4bit", false),
                f.optionalBoolean("load_in_8bit", false),
                quantType != null ? quantType : "fp4",
                f.optionalBoolean("bnb_4bit_use_double_quant", false),
                f.optionalString("bnb_4bit_compute_dtype"));
    }

    /** Typed access to one JSON object's fields, with messages naming the file and key. */
    private record Fields(JsonNode node, String source) {
        int requiredInt(String key) {
            JsonNode v = node.get(key);
            if (v == null || v.isNull()) {
                throw new HfCheckpointException(source + ": missing " + key);
            }
            return toInt(key, v);
        }

        int optionalInt(String key, int fallback) {
            JsonNode v = node.get(key);
            return v == null || v.isNull() ? fallback : toInt(key, v);
        }

        private int toInt(String key, JsonNode v) {
            if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() <= 0) {
                throw new HfCheckpointException(source + ": " + key + " = " + v + " is not a positive integer");
            }
            return v.intValue();
        }

        double optionalDouble(String key, double fallback) {
            JsonNode v = node.get(key);
            if (v == null || v.isNull()) {
                return fallback;
            }
            if (!v.isNumber()) {
                throw new HfCheckpointException(source + ": " + key + " = " + v + " is not a number");
            }
            return v.doubleValue();
        }

        boolean optionalBoolean(String key, boolean fallback) {
            JsonNode v = node.get(key);
            if (v == null || v.isNull()) {
                return fallback;
            }
            if (!v.isBoolean()) {
                throw new HfCheckpointException(source + ": " + key + " = " + v + " is not true or false");
            }
            return v.booleanValue();
        }

        String optionalString(String key) {
            JsonNode v = node.get(key);
            return v == null || v.isNull() ? null : v.asText();
        }

        /** A token id given as an integer or a list of integers. */
        List<Integer> ids(String key) {
            JsonNode v = node.get(key);
            if (v == null || v.isNull()) {
                return List.of();
            }
            List<Integer> out = new ArrayList<>();
            for (JsonNode id : v.isArray() ? v : List.of(v)) {
                if (!id.isIntegralNumber() || !id.canConvertToInt() || id.intValue() < 0) {
                    throw new HfCheckpointException(source + ": " + key + " = " + v + " is not a token id or list of them");
                }
                out.add(id.intValue());
            }
            return List.copyOf(out);
        }
    }

    /** True when the config says the weights are bitsandbytes 4-bit or 8-bit. */
    public boolean isBitsAndBytes() {
        return quantization != null && "bitsandbytes".equals(quantization.quantMethod())
                && (quantization.loadIn4bit() || quantization.loadIn8bit());
    }
}
