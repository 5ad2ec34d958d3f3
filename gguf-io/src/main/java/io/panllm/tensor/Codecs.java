package io.panllm.tensor;

/** Finds the codec of a type. */
final class Codecs {
    private Codecs() {
    }

    static BlockCodec of(GgmlType type) {
        throw new UnsupportedTypeException("no codec for tensor type " + type);
    }
}
