package io.panllm.runtime.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.panllm.tensor.GgmlType;
import io.panllm.tensor.UnsupportedTypeException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * Hand-built blocks with known values (the layouts as ggml-common.h and bitsandbytes define them),
 * read by the vector kernels (a dot with a one-hot vector picks out one element) and by the codec
 * path.
 */
class BlockLayoutTest {
    private final Arena arena = Arena.ofAuto();

    private MemorySegment block(GgmlType type) {
        return arena.allocate(type.bytesPerBlock);
    }

    private static void half(MemorySegment s, long offset, float value) {
        s.set(BlockBytes.SHORT_LE, offset, Float.floatToFloat16(value));
    }

    private static void set(MemorySegment s, long offset, int value) {
        s.set(ValueLayout.JAVA_BYTE, offset, (byte) value);
    }

    /** The block's elements as the vector kernel's dot sees them; checked against the codec's decoding. */
    private static float[] decode(GgmlType type, MemorySegment block) {
        float[] viaCodec = new float[type.blockSize];
        ScalarKernels.of(type).dequantize(block, viaCodec, 0, type.blockSize);
        RowKernel vector = VectorKernels.of(type);
        float[] viaDot = new float[type.blockSize];
        float[] oneHot = new float[type.blockSize];
        for (int i = 0; i < type.blockSize; i++) {
            oneHot[i] = 1f;
            viaDot[i] = vector.dot(block, oneHot, 0, type.blockSize);
            oneHot[i] = 0f;
        }
        assertThat(viaDot).as("%s: vector kernel vs codec", type).containsExactly(viaCodec);
        return viaDot;
    }

    @Test
    void q4_0LowNibblesAreTheFirstHalf() {
        MemorySegment b = block(GgmlType.Q4_0);
        half(b, 0, 0.5f);
        set(b, 2, 0x9A); // element 0: 0xA - 8 = 2, element 16: 0x9 - 8 = 1
        set(b, 17, 0x0F); // element 15: 7, element 31: -8
        float[] x = decode(GgmlType.Q4_0, b);
        assertThat(x[0]).isEqualTo(1f);
        assertThat(x[16]).isEqualTo(0.5f);
        assertThat(x[15]).isEqualTo(3.5f);
        assertThat(x[31]).isEqualTo(-4f);
        assertThat(x[1]).isEqualTo(-4f); // zero byte: both nibbles decode to -8
    }

    @Test
    void q4_1AddsTheMin() {
        MemorySegment b = block(GgmlType.Q4_1);
        half(b, 0, 2f);
        half(b, 2, -1f);
        set(b, 4, 0x31);
        float[] x = decode(GgmlType.Q4_1, b);
        assertThat(x[0]).isEqualTo(1f);
        assertThat(x[16]).isEqualTo(5f);
        assertThat(x[1]).isEqualTo(-1f);
    }

    @Test
    void q8_0IsSigned() {
        MemorySegment b = block(GgmlType.Q8_0);
        half(b, 0, 0.25f);
        set(b, 2, -128);
        set(b, 33, 127);
        float[] x = decode(GgmlType.Q8_0, b);
        assertThat(x[0]).isEqualTo(-32f);
        assertThat(x[31]).isEqualTo(31.75f);
    }

    @Test
    void iq4NlIndexesItsTable() {
        MemorySegment b = block(GgmlType.IQ4_NL);
        half(b, 0, 1f);
        set(b, 2, 0xF0);
        float[] x = decode(GgmlType.IQ4_NL, b);
        assertThat(x[0]).isEqualTo(-127f);
        assertThat(x[16]).isEqualTo(113f);
    }

    @Test
    void q4_KUnpacksSixBitScalesAndMins() {
        MemorySegment b = block(GgmlType.Q4_K);
        half(b, 0, 1f);
        half(b, 2, 1f);
        // sub-block 1: scale 5, min 3 (low 6 bits of scales[1], scales[5]); top bits of these carry
        // the high bits of sub-block 5: scale (scales[9] & 0xF) | (scales[1] >> 6) << 4, min likewise.
        set(b, 4 + 1, 5 | (2 << 6));
        set(b, 4 + 5, 3 | (1 << 6));
        set(b, 4 + 9, 0x7 | (0x4 << 4)); // sub-block 5: scale low nibble 7, min low nibble 4
        // element 32 (sub-block 1, first of its 32: the high nibble of qs[0]) = 9
        set(b, 16, 0x90);
        // element 160 (sub-block 5: the high nibbles of chunk 2, qs[64 ..]) = 2
        set(b, 16 + 64, 0x20);
        float[] x = decode(GgmlType.Q4_K, b);
        assertThat(x[32]).isEqualTo(5 * 9 - 3);
        assertThat(x[160]).isEqualTo((7 | 2 << 4) * 2 - (4 | 1 << 4));
        assertThat(x[0]).isEqualTo(0f); // sub-block 0: scale 0, min 0
    }

    @Test
    void q6_KCombinesLowAndHighBits() {
        MemorySegment b = block(GgmlType.Q6_K);
        half(b, 208, 0.5f);
        for (int i = 0; i < 16; i++) {
            set(b, 192 + i, i + 1); // scale of 16-element group i = i + 1
        }
        // element 64 + 17 (half 0, l = 17, k = 2): low bits = high nibble of ql[17], top bits = qh[17] bits 4-5
        set(b, 17, 0xB0);
        set(b, 128 + 17, 0b10 << 4);
        // element 128 + 96 + 3 (half 1, l = 3, k = 3): low = high nibble of ql[64 + 32 + 3], top = qh[32 + 3] bits 6-7
        set(b, 64 + 32 + 3, 0x50);
        set(b, 128 + 32 + 3, 0b11 << 6);
        float[] x = decode(GgmlType.Q6_K, b);
        // group of element 81: is = 1, + 4 -> scale index 5 -> 6
        assertThat(x[64 + 17]).isEqualTo(0.5f * 6 * ((0xB | 0b10 << 4) - 32));
        // half 1, scale index 8 + 0 + 6 = 14 -> 15
        assertThat(x[128 + 96 + 3]).isEqualTo(0.5f * 15 * ((0x5 | 0b11 << 4) - 32));
    }

    @Test
    void bitsAndBytesPutsTheFirstElementInTheHighNibble() {
        MemorySegment b = block(GgmlType.NF4);
        half(b, 0, 2f);
        set(b, 2, 0x0F);
        float[] nf4 = decode(GgmlType.NF4, b);
        assertThat(nf4[0]).isEqualTo(-2f);
        assertThat(nf4[1]).isEqualTo(2f);
        float[] fp4 = decode(GgmlType.FP4, b);
        assertThat(fp4[0]).isEqualTo(0f);
        assertThat(fp4[1]).isEqualTo(-0.5f); // code 15: -3/12
    }

    @Test
    void iq4NlTableIsTheCodecs() {
        MemorySegment b = block(GgmlType.IQ4_NL);
        half(b, 0, 1f);
        for (int j = 0; j < 16; j++) {
            set(b, 2 + j, j);
        }
        float[] viaCodec = GgmlType.IQ4_NL.codec().dequantize(b, 32);
        for (int code = 0; code < 16; code++) {
            assertThat(viaCodec[code]).isEqualTo(VectorKernels.IQ4_NL_VALUES[code]);
        }
    }

    @Test
    void unsupportedTypesAreRefusedByName() {
        assertThatThrownBy(() -> ScalarKernels.of(GgmlType.Q3_K)).isInstanceOf(UnsupportedTypeException.class)
                .hasMessageContaining("Q3_K");
    }
}
