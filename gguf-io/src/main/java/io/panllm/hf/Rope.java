package io.panllm.hf;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The RoPE settings of a config.json, from either layout: transformers 4.x's top-level
 * {@code rope_theta} + {@code rope_scaling}, or transformers 5's {@code rope_parameters} (which
 * holds {@code rope_theta} too). When both are present they must agree.
 *
 * @param scaling null for plain RoPE (no rope_scaling, or rope_type "default")
 */
record Rope(double theta, HfConfig.RopeScaling scaling) {
    static final double DEFAULT_THETA = 10000.0;

    /** The keys each implemented rope type may carry; any other non-null key changes the math in a way not implemented. */
    private static final Map<String, Set<String>> IMPLEMENTED = Map.of(
            "default", Set.of(),
            "linear", Set.of("factor"),
            "llama3", Set.of("factor", "low_freq_factor", "high_freq_factor"));

    /** Keys that never change the math (or are checked on their own). */
    private static final Set<String> COMMON = Set.of("rope_type", "type", "rope_theta", "partial_rotary_factor",
            "original_max_position_embeddings");

    static Rope read(HfConfig.Reader config, List<String> unsupported) {
        double topTheta = config.positiveDouble("rope_theta", Double.NaN);
        JsonNode parameters = config.object("rope_parameters");
        JsonNode scaling = config.object("rope_scaling");
        Rope fromParameters = parameters == null ? null
                : parse(new HfConfig.Reader(parameters, config.where() + ": rope_parameters"), "rope_parameters", topTheta, unsupported);
        Rope fromScaling = scaling == null ? null
                : parse(new HfConfig.Reader(scaling, config.where() + ": rope_scaling"), "rope_scaling", topTheta,
                        fromParameters == null ? unsupported : new ArrayList<>());
        if (fromParameters != null && fromScaling != null && !fromParameters.equals(fromScaling)) {
            throw new HfConfigException(config.where() + ": rope_parameters " + parameters + " and rope_scaling " + scaling
                    + " disagree");
        }
        Rope rope = fromParameters != null ? fromParameters : fromScaling;
        return rope != null ? rope : new Rope(Double.isNaN(topTheta) ? DEFAULT_THETA : topTheta, null);
    }

    private static Rope parse(HfConfig.Reader r, String key, double topTheta, List<String> unsupported) {
        if (perLayerType(r.node())) {
            unsupported.add(key + " per layer type " + fieldNames(r.node()) + " (panllm implements one RoPE for all layers)");
            return new Rope(DEFAULT_THETA, null);
        }
        String ropeType = r.string("rope_type", null);
        String legacyType = r.string("type", null);
        if (ropeType != null && legacyType != null && !ropeType.equals(legacyType)) {
            throw new HfConfigException(r.where() + ": rope_type '" + ropeType + "' and type '" + legacyType + "' differ");
        }
        String type = ropeType != null ? ropeType : legacyType;
        if (type == null) {
            if (key.equals("rope_scaling")) {
                throw new HfConfigException(r.where() + ": neither rope_type nor type is given");
            }
            type = "default"; // transformers 5 fills it in, but a hand-written rope_parameters may omit it
        }
        double theta = r.positiveDouble("rope_theta", Double.NaN);
        if (!Double.isNaN(theta) && !Double.isNaN(topTheta) && theta != topTheta) {
            throw new HfConfigException(r.where() + ": rope_theta " + theta + " differs from the top-level rope_theta " + topTheta);
        }
        theta = !Double.isNaN(theta) ? theta : !Double.isNaN(topTheta) ? topTheta : DEFAULT_THETA;
        double partial = r.positiveDouble("partial_rotary_factor", 1.0);
        if (partial != 1.0) {
            unsupported.add(key + ".partial_rotary_factor " + partial + " (panllm rotates the whole head)");
        }
        Set<String> allowed = IMPLEMENTED.get(type);
        if (allowed == null) {
            unsupported.add(key + ".rope_type '" + type + "' (panllm implements default, linear and llama3)");
            return new Rope(theta, null);
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = r.node().fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isNull() && !COMMON.contains(e.getKey()) && !allowed.contains(e.getKey())) {
                unsupported.add(key + "." + e.getKey() + " = " + e.getValue() + " with rope_type '" + type + "'");
            }
        }
        HfConfig.RopeScaling scaling = switch (type) {
            case "linear" -> new HfConfig.RopeScaling(type, required(r, "factor"), Double.NaN, Double.NaN,
                    r.has("original_max_position_embeddings") ? r.positiveInt("original_max_position_embeddings") : 0);
            case "llama3" -> {
                int originalContext = r.positiveInt("original_max_position_embeddings");
                double low = required(r, "low_freq_factor");
                double high = required(r, "high_freq_factor");
                if (!(high > low)) {
                    throw new HfConfigException(r.where() + ": high_freq_factor " + high + " must be above low_freq_factor " + low);
                }
                yield new HfConfig.RopeScaling(type, required(r, "factor"), low, high, originalContext);
            }
            default -> null;
        };
        return new Rope(theta, scaling);
    }

    private static double required(HfConfig.Reader r, String key) {
        if (!r.has(key)) {
            throw new HfConfigException(r.where() + ": missing '" + key + "'");
        }
        return r.positiveDouble(key, Double.NaN);
    }

    /** transformers 5 models with several attention kinds key rope_parameters by layer type. */
    private static boolean perLayerType(JsonNode node) {
        if (node.isEmpty()) {
            return false;
        }
        for (JsonNode v : node) {
            if (!v.isObject()) {
                return false;
            }
        }
        return true;
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
