package io.panllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.panllm.tensor.Bnb4bit.QuantType;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class Bnb4bitTest {

    @Test
    void dynamicMapIsBitsandbytesOwn() {
        float[] expected = CodecTestSupport.floatsOf(CodecTestSupport.resource("bnb-golden/dynamic-map.f32"));
        float[] actual = Bnb4bit.dynamicMap();
        assertThat(actual).hasSize(256);
        for (int i = 0; i < 256; i++) {
            assertThat(Float.floatToRawIntBits(actual[i])).as("entry %d: %s vs %s", i, actual[i], expected[i])
                    .isEqualTo(Float.floatToRawIntBits(expected[i]));
        }
    }

    @Test
    void dynamicQuantizationFindsEveryEntryAndSaturates() {
        float[] map = Bnb4bit.dynamicMap();
        for (int code = 0; code < 256; code++) {
            assertThat(BnbDynamicMap.quantize(map[code])).as("code %d", code).isEqualTo(code);
        }
        assertThat(BnbDynamicMap.quantize(0f)).isEqualTo(127);
        assertThat(BnbDynamicMap.quantize(1.5f)).isEqualTo(255);
        assertThat(BnbDynamicMap.quantize(-1.5f)).isEqualTo(0);
        // halfway between two neighbours the lower one is kept, just above it the upper one is taken
        float mid = (map[200] + map[201]) * 0.5f;
        assertThat(BnbDynamicMap.quantize(mid)).isEqualTo(200);
        assertThat(BnbDynamicMap.quantize(Math.nextUp(mid))).isEqualTo(201);
    }

    @ParameterizedTest
    @EnumSource(QuantType.class)
    void everyTableValueQuantizesToItsOwnCode(QuantType type) {
        float[] table = type.table();
        for (int code = 0; code < 16; code++) {
            int expected = type == QuantType.FP4 && code == 0b1000 ? 0 : code; // -0 is coded as +0
            assertThat(type.code(table[code])).as("code %d", code).isEqualTo(expected);
        }
    }

    @Test
    void nf4SplitsExactlyAtItsThresholds() {
        // dQuantizeNF4 takes the upper code only strictly above a split point
        assertThat(QuantType.NF4.code(0.03979014977812767f)).isEqualTo(7);
        assertThat(QuantType.NF4.code(Math.nextUp(0.03979014977812767f))).isEqualTo(8);
        assertThat(QuantType.NF4.code(-0.8480964004993439f)).isEqualTo(0);
        assertThat(QuantType.NF4.code(Math.nextUp(-0.8480964004993439f))).isEqualTo(1);
        assertThat(QuantType.NF4.code(Float.NaN)).isEqualTo(0);
        assertThat(QuantType.NF4.code(2f)).isEqualTo(15);
    }

    @Test
    void fp4SplitsMagnitudesAndSetsTheSignBit() {
        assertThat(QuantType.FP4.code(0.29166667f)).isEqualTo(0b0111); // 0.25
        assertThat(QuantType.FP4.code(Math.nextUp(0.29166667f))).isEqualTo(0b0100); // 1/3
        assertThat(QuantType.FP4.code(-0.9f)).isEqualTo(0b1011); // -1
        assertThat(QuantType.FP4.code(-0.001f)).isEqualTo(0b1000); // -0
        assertThat(QuantType.FP4.code(0.0027f)).isEqualTo(0b0001);
        assertThat(QuantType.fromName("fp4")).isEqualTo(QuantType.FP4);
        assertThatThrownBy(() -> QuantType.fromName("int4")).hasMessageContaining("int4");
    }

    @Test
    void quantizeHandlesAPartialLastBlockAndAnOddCount() {
        // 129 elements in blocks of 64: absmax 2, 4 and (last block, one element) 0.5
        float[] x = new float[129];
        x[0] = -2;
        x[1] = 2;
        x[64] = 4;
        x[65] = 1; // 0.25 of its absmax: nearest NF4 value 0.2461 (code 10)
        x[128] = -0.5f;
        Bnb4bit.Quantized q = Bnb4bit.quantize(QuantType.NF4, x, 0, x.length, 64);

        assertThat(q.absmax()).containsExactly(2f, 4f, 0.5f);
        assertThat(q.packedCodes()).hasSize(65);
        assertThat(q.packedCodes()[0]).isEqualTo((byte) 0x0F);
        assertThat(q.packedCodes()[1]).isEqualTo((byte) 0x77); // zeros
        assertThat(q.packedCodes()[32]).isEqualTo((byte) 0xFA);
        assertThat(q.packedCodes()[64]).isEqualTo((byte) 0x07); // -1, then the padding: code of 0

        float[] back = q.dequantize();
        assertThat(back[0]).isEqualTo(-2f);
        assertThat(back[65]).isEqualTo(4 * 0.24611230194568634f);
        assertThat(back[128]).isEqualTo(-0.5f);
    }

    @Test
    void zeroBlocksGiveCodeZeroAsTheCudaKernelDoes() {
        Bnb4bit.Quantized q = Bnb4bit.quantize(QuantType.NF4, new float[64], 0, 64, 64);
        assertThat(q.absmax()).containsExactly(0f);
        assertThat(q.packedCodes()).containsOnly(0); // 0 * (1 / 0) is NaN, which the tree sends to code 0
        assertThat(q.dequantize()).containsOnly(-0f); // code 0 is -1, times absmax 0
    }

    @ParameterizedTest
    @EnumSource(QuantType.class)
    void nativeRoundTripStaysWithinTheBlockError(QuantType type) {
        long seed = System.nanoTime();
        float[] x = CodecTestSupport.gaussian(seed, 64 * 100 + 10, 0.02);
        Bnb4bit.Quantized q = Bnb4bit.quantize(type, x, 0, x.length, 64);
        // bounds measured as for RoundTripTest: NF4 0.103, FP4 0.134
        double bound = type == QuantType.NF4 ? 0.13 : 0.17;
        assertThat(CodecTestSupport.relativeRmsError(x, q.dequantize())).as("seed %d", seed).isLessThan(bound);
    }

    @ParameterizedTest
    @EnumSource(QuantType.class)
    void ggufBlocksHoldTheSameCodesAsTheNativeLayout(QuantType type) {
        long seed = System.nanoTime();
        float[] x = CodecTestSupport.gaussian(seed, 64 * 20, 1.0);
        GgmlType ggufType = type == QuantType.NF4 ? GgmlType.NF4 : GgmlType.FP4;
        Bnb4bit.Quantized q = Bnb4bit.quantize(type, x, 0, x.length, 64);

        byte[] repacked = new byte[Math.toIntExact(ggufType.byteSize(x.length))];
        Bnb4bit.toGgufBlocks(MemorySegment.ofArray(q.packedCodes()), q.absmax(), x.length,
                MemorySegment.ofArray(repacked));

        assertThat(repacked).as("seed %d", seed).containsExactly(CodecTestSupport.quantize(ggufType, x));
    }

    @Test
    void nestedAbsmaxDecodesAHandBuiltTensor() {
        float[] map = Bnb4bit.dynamicMap();
        byte[] codes = {(byte) 255, 0, 127};
        float[] absmax = Bnb4bit.dequantizeAbsmax(MemorySegment.ofArray(codes), new float[] {0.25f}, map, 256, 0.5f, 3);
        assertThat(absmax).containsExactly(1.0f * 0.25f + 0.5f, map[0] * 0.25f + 0.5f, 0.5f);
    }

    @Test
    void doubleQuantizationSubtractsTheMeanAndCodesTheRest() {
        Bnb4bit.NestedAbsmax nested = Bnb4bit.quantizeAbsmax(new float[] {0.75f, 0.25f});
        assertThat(nested.offset()).isEqualTo(0.5f);
        assertThat(nested.nestedAbsmax()).containsExactly(0.25f);
        assertThat(nested.codes()).containsExactly((byte) 255, (byte) 0); // +1 and -1 (nearest: map[0])
        assertThat(nested.nestedBlockSize()).isEqualTo(256);
    }

    @Test
    void doubleQuantizedAbsmaxStaysWithinOnePercentOfEachNestedBlocksRange() {
        long seed = System.nanoTime();
        float[] x = CodecTestSupport.gaussian(seed, 64 * 1000, 0.02);
        Bnb4bit.Quantized q = Bnb4bit.quantize(QuantType.NF4, x, 0, x.length, 64);
        Bnb4bit.NestedAbsmax nested = Bnb4bit.quantizeAbsmax(q.absmax());

        float[] rebuilt = nested.dequantize();

        assertThat(nested.nestedAbsmax()).hasSize(4); // 1000 blocks in blocks of 256
        for (int i = 0; i < rebuilt.length; i++) {
            float range = nested.nestedAbsmax()[i / 256];
            assertThat(rebuilt[i]).as("seed %d, block %d", seed, i).isCloseTo(q.absmax()[i], within(0.01f * range));
        }
        float[] decoded = Bnb4bit.dequantize(QuantType.NF4, MemorySegment.ofArray(q.packedCodes()), rebuilt, 64,
                x.length);
        assertThat(CodecTestSupport.relativeRmsError(x, decoded)).as("seed %d", seed).isLessThan(0.13);
    }

    @Test
    void badArgumentsAreRejectedWithTheirNumbers() {
        MemorySegment packed = MemorySegment.ofArray(new byte[32]);
        assertThatThrownBy(() -> Bnb4bit.quantize(QuantType.NF4, new float[64], 0, 64, 48))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("48");
        assertThatThrownBy(() -> Bnb4bit.dequantize(QuantType.NF4, packed, new float[1], 64, new float[128], 0, 128))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("need 64 bytes");
        assertThatThrownBy(() -> Bnb4bit.dequantize(QuantType.NF4, packed, new float[0], 64, new float[64], 0, 64))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("absmax");
        assertThatThrownBy(() -> Bnb4bit.dequantizeAbsmax(packed, new float[1], new float[16], 256, 0f, 32))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("256");
        assertThatThrownBy(() -> Bnb4bit.toGgufBlocks(packed, new float[1], 63, MemorySegment.ofArray(new byte[34])))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("63");
        float[] tooShort = new float[10];
        Arrays.fill(tooShort, 1f);
        assertThatThrownBy(() -> Bnb4bit.quantize(QuantType.FP4, tooShort, 0, 64, 64))
                .isInstanceOf(IndexOutOfBoundsException.class);
    }
}
