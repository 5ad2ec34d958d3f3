package io.panllm.safetensors;

/**
 * The element types of the safetensors format, under the names its header uses. All are stored
 * little-endian. F8_E4M3 is OCP's e4m3fn (torch.float8_e4m3fn), F8_E5M2 its e5m2.
 */
public enum SafetensorsDtype {
    F64(8),
    F32(4),
    F16(2),
    BF16(2),
    I64(8),
    I32(4),
    I16(2),
    I8(1),
    U64(8),
    U32(4),
    U16(2),
    U8(1),
    BOOL(1),
    F8_E4M3(1),
    F8_E5M2(1);

    /** Bytes per element. */
    public final int byteSize;

    SafetensorsDtype(int byteSize) {
        this.byteSize = byteSize;
    }

    /** The dtype with this header name (exact, as safetensors spells it), or null. */
    public static SafetensorsDtype fromName(String name) {
        for (SafetensorsDtype d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        return null;
    }
}
