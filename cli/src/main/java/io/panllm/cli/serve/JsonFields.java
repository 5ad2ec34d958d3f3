package io.panllm.cli.serve;

import com.fasterxml.jackson.databind.JsonNode;

/** Typed, validated reads of optional request fields; a wrong type is a 400 naming the field. */
final class JsonFields {
    private JsonFields() {
    }

    static boolean present(JsonNode body, String name) {
        JsonNode node = body.get(name);
        return node != null && !node.isNull();
    }

    static boolean bool(JsonNode body, String name, boolean fallback) {
        if (!present(body, name)) {
            return fallback;
        }
        JsonNode node = body.get(name);
        if (!node.isBoolean()) {
            throw ApiException.invalid("'" + name + "' must be true or false", name);
        }
        return node.booleanValue();
    }

    static double number(JsonNode body, String name, double fallback, double min, double max) {
        if (!present(body, name)) {
            return fallback;
        }
        JsonNode node = body.get(name);
        if (!node.isNumber() || !Double.isFinite(node.doubleValue())) {
            throw ApiException.invalid("'" + name + "' must be a number", name);
        }
        double value = node.doubleValue();
        if (value < min || value > max) {
            throw ApiException.invalid("'" + name + "' must be between " + min + " and " + max + ", got " + value, name);
        }
        return value;
    }

    static long integer(JsonNode body, String name, long fallback, long min, long max) {
        if (!present(body, name)) {
            return fallback;
        }
        JsonNode node = body.get(name);
        if (!node.canConvertToExactIntegral() || !node.canConvertToLong()) {
            throw ApiException.invalid("'" + name + "' must be an integer", name);
        }
        long value = node.longValue();
        if (value < min || value > max) {
            throw ApiException.invalid("'" + name + "' must be between " + min + " and " + max + ", got " + value, name);
        }
        return value;
    }
}
