package io.panllm.gguf;

/** Metadata value types, with their ids in the GGUF format. */
public enum GgufValueType {
    UINT8(1), INT8(1), UINT16(2), INT16(2), UINT32(4), INT32(4), FLOAT32(4), BOOL(1), STRING(-1), ARRAY(-1),
    UINT64(8), INT64(8), FLOAT64(8);

    /** Bytes per value in the file, or -1 for variable-length types. */
    public final int fixedSize;

    GgufValueType(int fixedSize) {
        this.fixedSize = fixedSize;
    }

    public int id() {
        return ordinal();
    }

    /** The type with this id, or null. */
    public static GgufValueType fromId(long id) {
        GgufValueType[] all = values();
        return id >= 0 && id < all.length ? all[(int) id] : null;
    }

    public boolean isInteger() {
        return this == UINT8 || this == INT8 || this == UINT16 || this == INT16 || this == UINT32 || this == INT32
                || this == UINT64 || this == INT64;
    }
}
