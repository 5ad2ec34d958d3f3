package io.panllm.safetensors;

/** The element types of the safetensors format, under the names its header uses. */
public enum SafetensorsDtype {
    F64(8), F32(4), F16(2), BF16(2), I64(8), I32(4), I16(2), I8(1), U8(1), BOOL(1),
    /** float8 e4m3fn; recognised, not decoded. */
    F8_E4M3(1),
    /** float8 e5m2; recognised, not decoded. */
    F8_E5M2(1);

    /** Bytes per element. */
    public final int size;

    SafetensorsDtype(int size) {
        this.size = size;
    }

    /** The dtype named {@code name} in a header, or null when the format has no such type. */
    public static SafetensorsDtype fromName(String name) {
        for (SafetensorsDtype d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        return null;
    }

    /** True when {@link SafetensorsTensor#readFloats} can decode it. */
    public boolean isDecodable() {
        return this != F8_E4M3 && this != F8_E5M2;
    }
}
