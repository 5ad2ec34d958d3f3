package io.panllm.tensor;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/** Finds the codec of a type: one shared instance per type, built once. */
final class Codecs {
    private Codecs() {
    }

    private static final Map<GgmlType, BlockCodec> CODECS = build();

    private static Map<GgmlType, BlockCodec> build() {
        Map<GgmlType, BlockCodec> codecs = new EnumMap<>(GgmlType.class);
        for (BlockCodec codec : new BlockCodec[] {
            new FloatCodecs.F32(), new FloatCodecs.F16(), new FloatCodecs.BF16(), new FloatCodecs.I8(),
            new LegacyCodecs.Q8_0(), new LegacyCodecs.Q4_0(), new LegacyCodecs.Q4_1(),
            new LegacyCodecs.Q5_0(), new LegacyCodecs.Q5_1(),
            new ScaleMinKCodec.Q4_K(), new ScaleMinKCodec.Q5_K(), new Q6_KCodec(), new Q8_KCodec(),
            new IQ4_NLCodec(),
            new Bnb4bitBlockCodec(GgmlType.NF4, Bnb4bit.QuantType.NF4),
            new Bnb4bitBlockCodec(GgmlType.FP4, Bnb4bit.QuantType.FP4),
        }) {
            codecs.put(codec.type(), codec);
        }
        return Collections.unmodifiableMap(codecs);
    }

    static boolean has(GgmlType type) {
        return CODECS.containsKey(type);
    }

    static BlockCodec of(GgmlType type) {
        Objects.requireNonNull(type, "type");
        BlockCodec codec = CODECS.get(type);
        if (codec == null) {
            throw new UnsupportedTypeException("tensor type " + type + " (GGUF id " + type.id
                    + ") has no codec in panllm: it can be neither decoded nor encoded here");
        }
        return codec;
    }
}
