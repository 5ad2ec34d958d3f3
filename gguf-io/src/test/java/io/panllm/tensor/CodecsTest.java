package io.panllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class CodecsTest {
    static final Set<GgmlType> SUPPORTED = EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0,
            GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
            GgmlType.Q8_K, GgmlType.IQ4_NL, GgmlType.NF4, GgmlType.FP4, GgmlType.I8);

    @Test
    void everySupportedTypeHasOneSharedCodecOfItsOwnType() {
        for (GgmlType type : SUPPORTED) {
            BlockCodec codec = type.codec();
            assertThat(codec.type()).isEqualTo(type);
            assertThat(type.codec()).isSameAs(codec);
            assertThat(codec.canQuantize()).isTrue();
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K",
        "Q5_K", "Q6_K", "Q8_K", "IQ4_NL", "NF4", "FP4", "I8"}, mode = EnumSource.Mode.EXCLUDE)
    void otherTypesAreRefusedByName(GgmlType type) {
        assertThatThrownBy(type::codec)
                .isInstanceOf(UnsupportedTypeException.class)
                .hasMessageContaining(type.name())
                .hasMessageContaining("id " + type.id);
    }

    @Test
    void i8IsOneInt8PerElementRoundedAndSaturated() {
        MemorySegment codes = MemorySegment.ofArray(new byte[6]);
        GgmlType.I8.codec().quantize(new float[] {0.5f, 1.5f, -2.49f, 300f, -300f, -128f}, 0, 6, codes);
        assertThat(codes.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)).containsExactly(0, 2, -2, 127, -128, -128);
        assertThat(GgmlType.I8.codec().dequantize(codes, 6)).containsExactly(0f, 2f, -2f, 127f, -128f, -128f);
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K", "Q8_K",
        "IQ4_NL", "NF4", "FP4"})
    void countsThatAreNotWholeBlocksAreRejected(GgmlType type) {
        int n = type.blockSize + 1;
        MemorySegment big = MemorySegment.ofArray(new byte[4 * type.bytesPerBlock]);
        float[] values = new float[4 * type.blockSize];
        assertThatThrownBy(() -> type.codec().quantize(values, 0, n, big))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(type.name())
                .hasMessageContaining(n + " elements is not a whole number of " + type.blockSize);
        assertThatThrownBy(() -> type.codec().dequantize(big, values, 0, n))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(n + " elements");
        assertThatThrownBy(() -> type.codec().dequantize(big, values, 0, -type.blockSize))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_K", "IQ4_NL", "NF4"})
    void segmentsTooSmallForTheBlocksAreRejected(GgmlType type) {
        int n = 2 * type.blockSize;
        MemorySegment oneBlock = MemorySegment.ofArray(new byte[type.bytesPerBlock]);
        float[] values = new float[n];
        assertThatThrownBy(() -> type.codec().dequantize(oneBlock, values, 0, n))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("source segment holds only " + type.bytesPerBlock);
        assertThatThrownBy(() -> type.codec().quantize(values, 0, n, oneBlock))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("destination segment holds only " + type.bytesPerBlock);
    }

    /** NaN, infinities and extremes give some bytes (llama.cpp's are undefined there) but never an exception. */
    @Test
    void hostileValuesNeverThrow() {
        float[] x = new float[512];
        for (int i = 0; i < x.length; i++) {
            x[i] = switch (i % 8) {
                case 0 -> Float.NaN;
                case 1 -> Float.POSITIVE_INFINITY;
                case 2 -> Float.NEGATIVE_INFINITY;
                case 3 -> Float.MAX_VALUE;
                case 4 -> -Float.MIN_VALUE;
                case 5 -> 1e30f;
                default -> (float) Math.sin(i);
            };
        }
        for (GgmlType type : SUPPORTED) {
            byte[] blocks = CodecTestSupport.quantize(type, x);
            assertThat(CodecTestSupport.dequantize(type, blocks, x.length)).hasSize(x.length);
        }
    }

    @Test
    void aHugeCountIsRejectedBeforeAnythingIsAllocated() {
        MemorySegment oneBlock = MemorySegment.ofArray(new byte[18]);
        int hostile = Integer.MAX_VALUE / 32 * 32;
        assertThatThrownBy(() -> GgmlType.Q4_0.codec().dequantize(oneBlock, hostile))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("segment holds only 18");
        assertThatThrownBy(() -> Bnb4bit.dequantize(Bnb4bit.QuantType.NF4, oneBlock, new float[1], 64, hostile))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("the segment holds 18");
    }

    @Test
    void arrayRangesOutsideTheArrayAreRejected() {
        BlockCodec codec = GgmlType.Q4_0.codec();
        MemorySegment blocks = MemorySegment.ofArray(new byte[2 * 18]);
        assertThatThrownBy(() -> codec.dequantize(blocks, new float[63], 0, 64))
                .isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> codec.quantize(new float[64], 1, 64, blocks))
                .isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void offsetsPlaceTheElements() {
        BlockCodec codec = GgmlType.Q8_0.codec();
        float[] src = new float[100];
        for (int i = 0; i < 32; i++) {
            src[5 + i] = i - 16;
        }
        MemorySegment block = MemorySegment.ofArray(new byte[34]);
        codec.quantize(src, 5, 32, block);
        float[] dst = new float[50];
        codec.dequantize(block, dst, 10, 32);
        assertThat(dst[9]).isZero();
        assertThat(dst[42]).isZero();
        assertThat(dst[10]).isEqualTo(-16f, org.assertj.core.data.Offset.offset(0.07f));
        assertThat(dst[41]).isEqualTo(15f, org.assertj.core.data.Offset.offset(0.07f));
    }
}
