package io.panllm.gguf;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The key/value metadata of a GGUF file, in file order, with typed getters. */
public final class GgufMetadata {
    private final Map<String, GgufValue> values;
    private final String source;

    public GgufMetadata(Map<String, GgufValue> values, String source) {
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
        this.source = source;
    }

    public Set<String> keys() {
        return values.keySet();
    }

    public Map<String, GgufValue> asMap() {
        return values;
    }

    public boolean has(String key) {
        return values.containsKey(key);
    }

    /** The value, or null if absent. */
    public GgufValue get(String key) {
        return values.get(key);
    }

    private GgufValue require(String key) {
        GgufValue v = values.get(key);
        if (v == null) {
            throw new GgufException(source + ": missing metadata key '" + key + "'");
        }
        return v;
    }

    private GgufException wrongType(String key, GgufValue v, String wanted) {
        return new GgufException(source + ": metadata key '" + key + "' is " + v.type() + ", expected " + wanted);
    }

    public String getString(String key) {
        GgufValue v = require(key);
        if (v.type() != GgufValueType.STRING) {
            throw wrongType(key, v, "STRING");
        }
        return (String) v.value();
    }

    public String getString(String key, String def) {
        return has(key) ? getString(key) : def;
    }

    public long getLong(String key) {
        GgufValue v = require(key);
        if (!v.type().isInteger()) {
            throw wrongType(key, v, "an integer");
        }
        return v.asLong();
    }

    public long getLong(String key, long def) {
        return has(key) ? getLong(key) : def;
    }

    public int getInt(String key) {
        long v = getLong(key);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new GgufException(source + ": metadata key '" + key + "' = " + v + " is out of int range");
        }
        return (int) v;
    }

    public int getInt(String key, int def) {
        return has(key) ? getInt(key) : def;
    }

    public float getFloat(String key) {
        GgufValue v = require(key);
        return switch (v.type()) {
            case FLOAT32 -> (Float) v.value();
            case FLOAT64 -> (float) (double) (Double) v.value();
            default -> {
                if (v.type().isInteger()) {
                    yield (float) v.asLong();
                }
                throw wrongType(key, v, "a float");
            }
        };
    }

    public float getFloat(String key, float def) {
        return has(key) ? getFloat(key) : def;
    }

    public boolean getBoolean(String key, boolean def) {
        if (!has(key)) {
            return def;
        }
        GgufValue v = require(key);
        if (v.type() != GgufValueType.BOOL) {
            throw wrongType(key, v, "BOOL");
        }
        return (Boolean) v.value();
    }

    private GgufArray getArray(String key) {
        GgufValue v = require(key);
        if (v.type() != GgufValueType.ARRAY) {
            throw wrongType(key, v, "ARRAY");
        }
        return (GgufArray) v.value();
    }

    @SuppressWarnings("unchecked")
    public List<String> getStringArray(String key) {
        GgufArray a = getArray(key);
        if (a.elementType() != GgufValueType.STRING) {
            throw new GgufException(source + ": metadata key '" + key + "' is an array of " + a.elementType() + ", expected STRING");
        }
        return (List<String>) a.values();
    }

    public float[] getFloatArray(String key) {
        GgufArray a = getArray(key);
        return switch (a.values()) {
            case float[] f -> f;
            case double[] d -> {
                float[] f = new float[d.length];
                for (int i = 0; i < d.length; i++) {
                    f[i] = (float) d[i];
                }
                yield f;
            }
            default -> throw new GgufException(source + ": metadata key '" + key + "' is an array of " + a.elementType() + ", expected floats");
        };
    }

    public int[] getIntArray(String key) {
        GgufArray a = getArray(key);
        boolean unsigned = a.elementType() == GgufValueType.UINT8 || a.elementType() == GgufValueType.UINT16;
        return switch (a.values()) {
            case int[] i -> i;
            case byte[] b -> {
                int[] out = new int[b.length];
                for (int i = 0; i < b.length; i++) {
                    out[i] = unsigned ? Byte.toUnsignedInt(b[i]) : b[i];
                }
                yield out;
            }
            case short[] s -> {
                int[] out = new int[s.length];
                for (int i = 0; i < s.length; i++) {
                    out[i] = unsigned ? Short.toUnsignedInt(s[i]) : s[i];
                }
                yield out;
            }
            default -> throw new GgufException(source + ": metadata key '" + key + "' is an array of " + a.elementType() + ", expected integers");
        };
    }
}
