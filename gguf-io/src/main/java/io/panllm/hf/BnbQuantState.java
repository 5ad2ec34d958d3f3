package io.panllm.hf;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.panllm.tensor.Bnb4bit;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The non-tensor part of a bitsandbytes 4-bit QuantState, as {@code QuantState.as_dict(packed=True)}
 * stores it: JSON bytes in a uint8 tensor {@code <module>.weight.quant_state.bitsandbytes__<nf4|fp4>}.
 * Keys: quant_type, blocksize, dtype (the unquantized dtype, "bfloat16"...), shape ([out, in]),
 * and with double quantization nested_blocksize, nested_dtype ("float32"), nested_offset.
 *
 * @param nestedOffset NaN when not double-quantized
 */
public record BnbQuantState(Bnb4bit.QuantType quantType, int blocksize, String dtype, long[] shape, boolean nested,
        int nestedBlocksize, float nestedOffset) {

    static final String KEY_PREFIX = "quant_state.bitsandbytes__";
    private static final int MAX_JSON_BYTES = 1 << 16;

    /** The suffix after {@code <module>.weight.} of the tensor holding this state. */
    public static String tensorSuffix(Bnb4bit.QuantType type) {
        return KEY_PREFIX + type.name().toLowerCase(Locale.ROOT);
    }

    /** Parses the state's JSON; {@code source} names the tensor in messages. */
    static BnbQuantState parse(byte[] json, String source) {
        if (json.length > MAX_JSON_BYTES) {
            throw new HfCheckpointException(source + ": quant state of " + json.length + " bytes is too large");
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (JacksonException e) {
            throw new HfCheckpointException(source + ": quant state is not valid JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw new HfCheckpointException(source + ": quant state cannot be read: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new HfCheckpointException(source + ": quant state is not a JSON object");
        }
        Bnb4bit.QuantType type;
        try {
            type = Bnb4bit.QuantType.fromName(root.path("quant_type").asText());
        } catch (IllegalArgumentException e) {
            throw new HfCheckpointException(source + ": " + e.getMessage());
        }
        int blocksize = positiveInt(root, "blocksize", source);
        JsonNode shapeNode = root.get("shape");
        if (shapeNode == null || !shapeNode.isArray() || shapeNode.size() != 2) {
            throw new HfCheckpointException(source + ": quant state shape " + shapeNode + " is not [out_features, in_features]");
        }
        long[] shape = new long[2];
        for (int i = 0; i < 2; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToInt() || d.intValue() <= 0) {
                throw new HfCheckpointException(source + ": quant state shape " + shapeNode + " is not two positive integers");
            }
            shape[i] = d.intValue();
        }
        boolean nested = root.has("nested_offset");
        int nestedBlocksize = nested ? positiveInt(root, "nested_blocksize", source) : 0;
        float offset = Float.NaN;
        if (nested) {
            if (!root.get("nested_offset").isNumber()) {
                throw new HfCheckpointException(source + ": quant state nested_offset is not a number");
            }
            offset = root.get("nested_offset").floatValue();
        }
        return new BnbQuantState(type, blocksize, root.path("dtype").asText("float32"), shape, nested, nestedBlocksize, offset);
    }

    private static int positiveInt(JsonNode root, String key, String source) {
        JsonNode v = root.get(key);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() <= 0) {
            throw new HfCheckpointException(source + ": quant state " + key + " = " + v + " is not a positive integer");
        }
        return v.intValue();
    }

    /**
     * The JSON bytes as bitsandbytes' pack_dict_to_tensor writes them. The nested offset is written
     * with a fixed width (9 significant digits, enough to give the float32 back exactly), so the
     * tensor's size is known before the weights are quantized: {@link #jsonLength}.
     */
    public byte[] toJson() {
        StringBuilder s = new StringBuilder();
        s.append("{\"quant_type\": \"").append(quantType.name().toLowerCase(Locale.ROOT)).append('"');
        s.append(", \"blocksize\": ").append(blocksize);
        s.append(", \"dtype\": \"").append(dtype).append('"');
        s.append(", \"shape\": [").append(shape[0]).append(", ").append(shape[1]).append(']');
        if (nested) {
            if (!Float.isFinite(nestedOffset)) {
                throw new IllegalArgumentException("nested offset " + nestedOffset + " is not finite (NaN or infinite weights?)");
            }
            s.append(", \"nested_blocksize\": ").append(nestedBlocksize);
            s.append(", \"nested_dtype\": \"float32\"");
            s.append(", \"nested_offset\": ").append(String.format(Locale.ROOT, "%.8e", nestedOffset));
        }
        s.append('}');
        return s.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Length of {@link #toJson()} for any finite offset. */
    public int jsonLength() {
        return new BnbQuantState(quantType, blocksize, dtype, shape, nested, nestedBlocksize, nested ? 1f : Float.NaN)
                .toJson().length;
    }
}
