package io.panllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Rounding cases of the 16-bit formats, derived by hand from their bit layouts. */
class HalfFloatsTest {

    @Test
    void fp16RoundsToNearestEvenAndOverflowsToInfinity() {
        assertThat(HalfFloats.toFp16(1.0f)).isEqualTo((short) 0x3C00);
        assertThat(HalfFloats.toFp16(-2.0f)).isEqualTo((short) 0xC000);
        assertThat(HalfFloats.toFp16(65504f)).isEqualTo((short) 0x7BFF); // largest half
        assertThat(HalfFloats.toFp16(65520f)).isEqualTo((short) 0x7C00); // halfway to 2^16: even is infinity
        // 1 + 2^-11 is halfway between 0x3C00 and 0x3C01: the even one wins; 1 + 3 * 2^-11 goes up to 0x3C02
        assertThat(HalfFloats.toFp16(1f + 0x1p-11f)).isEqualTo((short) 0x3C00);
        assertThat(HalfFloats.toFp16(1f + 3 * 0x1p-11f)).isEqualTo((short) 0x3C02);
        assertThat(HalfFloats.toFp16(0x1p-24f)).isEqualTo((short) 0x0001); // smallest subnormal
        assertThat(HalfFloats.toFp16(0x1p-26f)).isEqualTo((short) 0x0000); // below half of it
        assertThat(HalfFloats.fromFp16((short) 0x3555)).isEqualTo(0.33325195f);
    }

    @Test
    void bf16RoundsToNearestEvenAndKeepsNaNs() {
        assertThat(HalfFloats.toBf16(1.0f)).isEqualTo((short) 0x3F80);
        // 0x3F808000 is halfway between 0x3F80 and 0x3F81: stays even; 0x3F818000 goes up to 0x3F82
        assertThat(HalfFloats.toBf16(Float.intBitsToFloat(0x3F808000))).isEqualTo((short) 0x3F80);
        assertThat(HalfFloats.toBf16(Float.intBitsToFloat(0x3F818000))).isEqualTo((short) 0x3F82);
        assertThat(HalfFloats.toBf16(Float.intBitsToFloat(0x3F808001))).isEqualTo((short) 0x3F81);
        // the largest float rounds up into infinity, as ggml's rounding does
        assertThat(HalfFloats.toBf16(Float.MAX_VALUE)).isEqualTo((short) 0x7F80);
        // a signalling NaN whose payload lies in the low half would round to infinity; ggml keeps it NaN
        assertThat(HalfFloats.toBf16(Float.intBitsToFloat(0x7F800001))).isEqualTo((short) 0x7FC0);
        assertThat(HalfFloats.toBf16(Float.intBitsToFloat(0xFFA00000))).isEqualTo((short) 0xFFE0);
        assertThat(HalfFloats.fromBf16((short) 0xC0A0)).isEqualTo(-5.0f);
    }
}
