package io.panllm.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.panllm.safetensors.BnbTensors;
import io.panllm.safetensors.SafetensorsCheckpoint;
import io.panllm.safetensors.SafetensorsTensor;
import io.panllm.safetensors.SafetensorsWriter;
import io.panllm.tensor.Bnb4bit;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * Writes a Hugging Face checkpoint quantized the way transformers + bitsandbytes save one
 * ({@code BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", ...)} then
 * {@code save_pretrained}): every Linear weight of the decoder layers ({@code *_proj.weight}, 2-D)
 * in {@link BnbTensors}' 4-bit or LLM.int8 key set, everything else (embeddings, norms, lm_head,
 * which transformers leaves unquantized) copied unchanged; config.json gets a
 * {@code quantization_config}; tokenizer and generation files are copied. The output is one
 * {@code model.safetensors}.
 */
public final class BnbCheckpointWriter {
    private BnbCheckpointWriter() {
    }

    /** Files copied beside the weights when the source has them. */
    public static final List<String> SIDE_FILES = List.of("tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "generation_config.json", "tokenizer.model");

    /**
     * @param kind        NF4, FP4 or INT8
     * @param doubleQuant double-quantize the 4-bit absmax values (bnb_4bit_use_double_quant)
     */
    public static void quantize(Path sourceDirectory, Path targetDirectory, BnbTensors.Kind kind, boolean doubleQuant)
            throws IOException {
        if (kind == BnbTensors.Kind.PLAIN) {
            throw new IllegalArgumentException("choose NF4, FP4 or INT8");
        }
        HfConfig config = HfConfig.read(sourceDirectory);
        String dtype = config.torchDtype() != null ? config.torchDtype() : "float32";
        Files.createDirectories(targetDirectory);
        try (SafetensorsCheckpoint source = SafetensorsCheckpoint.open(sourceDirectory)) {
            SafetensorsWriter out = new SafetensorsWriter().putMetadata("format", "pt");
            for (String name : source.names()) {
                SafetensorsTensor tensor = source.require(name);
                if (!isQuantizedLinear(tensor)) {
                    out.add(tensor);
                    continue;
                }
                String module = name.substring(0, name.length() - ".weight".length());
                long[] shape = tensor.shape();
                if (kind == BnbTensors.Kind.INT8) {
                    BnbTensors.addInt8(out, module, Math.toIntExact(shape[0]), Math.toIntExact(shape[1]), tensor::toFloats);
                } else {
                    Bnb4bit.QuantType type = kind == BnbTensors.Kind.NF4 ? Bnb4bit.QuantType.NF4 : Bnb4bit.QuantType.FP4;
                    BnbTensors.add4bit(out, module, type, shape, Bnb4bit.DEFAULT_BLOCK_SIZE, doubleQuant, dtype, tensor::toFloats);
                }
            }
            out.write(targetDirectory.resolve(SafetensorsCheckpoint.SINGLE_FILE));
        }
        writeConfig(sourceDirectory.resolve(HfConfig.FILE_NAME), targetDirectory.resolve(HfConfig.FILE_NAME),
                quantizationConfig(kind, doubleQuant, dtype));
        for (String side : SIDE_FILES) {
            Path file = sourceDirectory.resolve(side);
            if (Files.isRegularFile(file)) {
                Files.copy(file, targetDirectory.resolve(side), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    /** transformers replaces the decoder's nn.Linear layers; embeddings and lm_head stay as they are. */
    static boolean isQuantizedLinear(SafetensorsTensor tensor) {
        return isQuantizedLinear(tensor.name(), tensor.shape().length);
    }

    /** Whether transformers + bitsandbytes quantize the tensor of this HF name and rank. */
    public static boolean isQuantizedLinear(String name, int rank) {
        return name.endsWith("_proj.weight") && rank == 2;
    }

    private static void writeConfig(Path source, Path target, ObjectNode quantization) throws IOException {
        ObjectMapper json = new ObjectMapper();
        JsonNode root = json.readTree(source.toFile());
        if (!(root instanceof ObjectNode config)) {
            throw new HfConfigException(source + ": not a JSON object");
        }
        config.set("quantization_config", quantization);
        Path tmp = Files.createTempFile(target.toAbsolutePath().getParent(), "." + target.getFileName(), ".partial");
        try {
            json.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), config);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * config.json's {@code quantization_config} as transformers writes a BitsAndBytesConfig
     * (BitsAndBytesConfig.to_dict()), which it reads back with from_pretrained.
     */
    public static ObjectNode quantizationConfig(BnbTensors.Kind kind, boolean doubleQuant, String computeDtype) {
        boolean fourBit = kind == BnbTensors.Kind.NF4 || kind == BnbTensors.Kind.FP4;
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        c.put("_load_in_4bit", fourBit);
        c.put("_load_in_8bit", !fourBit);
        c.put("bnb_4bit_compute_dtype", computeDtype);
        c.put("bnb_4bit_quant_storage", "uint8");
        c.put("bnb_4bit_quant_type", kind == BnbTensors.Kind.NF4 ? "nf4" : "fp4");
        c.put("bnb_4bit_use_double_quant", fourBit && doubleQuant);
        c.put("llm_int8_enable_fp32_cpu_offload", false);
        c.put("llm_int8_has_fp16_weight", false);
        c.putNull("llm_int8_skip_modules");
        c.put("llm_int8_threshold", 6.0);
        c.put("load_in_4bit", fourBit);
        c.put("load_in_8bit", !fourBit);
        c.put("quant_method", "bitsandbytes");
        return c;
    }
}
