package io.panllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Blocks built byte by byte from the layouts in {@link GgmlType}, decoded and compared with values
 * worked out by hand; and inputs whose quantized bytes can be worked out by hand.
 */
class BlockLayoutTest {
    // fp16 bit patterns used below
    private static final int HALF_ONE = 0x3C00;
    private static final int HALF_HALF = 0x3800;
    private static final int HALF_TWO = 0x4000;
    private static final int HALF_QUARTER = 0x3400;

    private static void putHalf(byte[] block, int offset, int bits) {
        block[offset] = (byte) bits;
        block[offset + 1] = (byte) (bits >>> 8);
    }

    private static float[] decode(GgmlType type, byte[] block) {
        return CodecTestSupport.dequantize(type, block, type.blockSize);
    }

    // ------------------------------------------------------------------ Q4_0

    @Test
    void q4_0DecodesLowNibblesFirstThenHighNibbles() {
        byte[] block = new byte[18];
        putHalf(block, 0, HALF_HALF); // d = 0.5
        for (int j = 0; j < 16; j++) {
            block[2 + j] = (byte) (j | ((15 - j) << 4)); // element j: code j, element j + 16: code 15 - j
        }
        float[] x = decode(GgmlType.Q4_0, block);
        for (int j = 0; j < 16; j++) {
            assertThat(x[j]).isEqualTo((j - 8) * 0.5f);
            assertThat(x[j + 16]).isEqualTo((15 - j - 8) * 0.5f);
        }
    }

    @Test
    void q4_0QuantizesAKnownBlockToKnownBytes() {
        // x = -8 .. 7 twice: the largest magnitude is -8, so d = -8 / -8 = 1 and each code is x + 8
        float[] x = new float[32];
        for (int j = 0; j < 32; j++) {
            x[j] = (j % 16) - 8;
        }
        byte[] expected = new byte[18];
        putHalf(expected, 0, HALF_ONE);
        for (int j = 0; j < 16; j++) {
            expected[2 + j] = (byte) (j | (j << 4));
        }
        assertThat(CodecTestSupport.quantize(GgmlType.Q4_0, x)).containsExactly(expected);
    }

    // ------------------------------------------------------------------ Q4_1

    @Test
    void q4_1QuantizesAndDecodesWithTheMinAsOffset() {
        // x = 1 .. 16 twice: min 1, max 16, d = 15 / 15 = 1, m = 1, codes x - 1
        float[] x = new float[32];
        for (int j = 0; j < 32; j++) {
            x[j] = (j % 16) + 1;
        }
        byte[] expected = new byte[20];
        putHalf(expected, 0, HALF_ONE);
        putHalf(expected, 2, HALF_ONE);
        for (int j = 0; j < 16; j++) {
            expected[4 + j] = (byte) (j | (j << 4));
        }
        byte[] actual = CodecTestSupport.quantize(GgmlType.Q4_1, x);
        assertThat(actual).containsExactly(expected);
        assertThat(decode(GgmlType.Q4_1, actual)).containsExactly(x);
    }

    // ------------------------------------------------------------------ Q5_0 / Q5_1

    @Test
    void q5_0KeepsTheFifthBitInQh() {
        // x_j = j - 16: the largest magnitude is -16, d = 1, code j; elements 16..31 have the fifth bit
        float[] x = new float[32];
        for (int j = 0; j < 32; j++) {
            x[j] = j - 16;
        }
        byte[] expected = new byte[22];
        putHalf(expected, 0, HALF_ONE);
        expected[4] = (byte) 0xFF; // qh = 0xFFFF0000 little-endian
        expected[5] = (byte) 0xFF;
        for (int j = 0; j < 16; j++) {
            expected[6 + j] = (byte) (j | (j << 4));
        }
        byte[] actual = CodecTestSupport.quantize(GgmlType.Q5_0, x);
        assertThat(actual).containsExactly(expected);
        assertThat(decode(GgmlType.Q5_0, actual)).containsExactly(x);
    }

    @Test
    void q5_1DecodesAHandBuiltBlock() {
        byte[] block = new byte[24];
        putHalf(block, 0, HALF_TWO); // d = 2
        putHalf(block, 2, 0xBC00); // m = -1
        block[4] = 0b0000_0101; // fifth bit set for elements 0 and 2
        block[7] = (byte) 0x80; // and for element 31
        Arrays.fill(block, 8, 24, (byte) 0x21); // low nibbles: 1 for elements 0..15, 2 for 16..31
        float[] x = decode(GgmlType.Q5_1, block);
        assertThat(x[0]).isEqualTo(2 * 17 - 1);
        assertThat(x[1]).isEqualTo(2 * 1 - 1);
        assertThat(x[2]).isEqualTo(2 * 17 - 1);
        assertThat(x[16]).isEqualTo(2 * 2 - 1);
        assertThat(x[31]).isEqualTo(2 * 18 - 1);
    }

    @Test
    void q5_1QuantizesAKnownBlockToKnownBytes() {
        // x_j = 2j - 10: min -10, max 52, d = 62 / 31 = 2, m = -10, code j
        float[] x = new float[32];
        for (int j = 0; j < 32; j++) {
            x[j] = 2 * j - 10;
        }
        byte[] expected = new byte[24];
        putHalf(expected, 0, HALF_TWO);
        putHalf(expected, 2, 0xC900); // -10 = -1.25 * 2^3
        expected[6] = (byte) 0xFF;
        expected[7] = (byte) 0xFF;
        for (int j = 0; j < 16; j++) {
            expected[8 + j] = (byte) (j | (j << 4));
        }
        assertThat(CodecTestSupport.quantize(GgmlType.Q5_1, x)).containsExactly(expected);
    }

    // ------------------------------------------------------------------ Q8_0

    @Test
    void q8_0RoundsHalfwayCasesAwayFromZero() {
        // amax 127 gives d = 1 exactly, so each code is roundf(x): 2.5 -> 3, -2.5 -> -3, 0.5 -> 1
        float[] x = new float[32];
        x[0] = -127;
        x[1] = 2.5f;
        x[2] = -2.5f;
        x[3] = 0.5f;
        x[4] = -0.5f;
        x[5] = 126.4f;
        for (int j = 6; j < 32; j++) {
            x[j] = j * 4 - 100;
        }
        byte[] expected = new byte[34];
        putHalf(expected, 0, HALF_ONE);
        byte[] codes = {-127, 3, -3, 1, -1, 126};
        System.arraycopy(codes, 0, expected, 2, codes.length);
        for (int j = 6; j < 32; j++) {
            expected[2 + j] = (byte) (j * 4 - 100);
        }
        byte[] actual = CodecTestSupport.quantize(GgmlType.Q8_0, x);
        assertThat(actual).containsExactly(expected);
        assertThat(decode(GgmlType.Q8_0, actual)[1]).isEqualTo(3f);
    }

    // ------------------------------------------------------------------ K-quants

    /** The 12 packed scale bytes for scales sc[0..7] and mins m[0..7], written out from the layout. */
    private static byte[] packedScales(int[] sc, int[] m) {
        byte[] p = new byte[12];
        for (int j = 0; j < 4; j++) {
            p[j] = (byte) ((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
            p[j + 4] = (byte) ((m[j] & 63) | ((m[j + 4] >> 4) << 6));
            p[j + 8] = (byte) ((sc[j + 4] & 15) | ((m[j + 4] & 15) << 4));
        }
        return p;
    }

    private static final int[] SCALES = {1, 2, 3, 63, 40, 41, 17, 5};
    private static final int[] MINS = {0, 7, 33, 1, 50, 16, 63, 2};

    @Test
    void q4_KDecodesSubBlockScalesMinsAndNibbles() {
        byte[] block = new byte[144];
        putHalf(block, 0, HALF_HALF); // d = 0.5
        putHalf(block, 2, HALF_QUARTER); // dmin = 0.25
        System.arraycopy(packedScales(SCALES, MINS), 0, block, 4, 12);
        for (int l = 0; l < 128; l++) {
            block[16 + l] = (byte) ((l % 16) | ((15 - l % 16) << 4));
        }
        float[] x = decode(GgmlType.Q4_K, block);
        for (int i = 0; i < 256; i++) {
            int sub = i / 32; // 64 elements per 32 bytes: low nibbles first, then high
            int l = (i / 64) * 32 + i % 32;
            int q = (i % 64) < 32 ? l % 16 : 15 - l % 16;
            assertThat(x[i]).as("element %d", i).isEqualTo(0.5f * SCALES[sub] * q - 0.25f * MINS[sub]);
        }
    }

    @Test
    void q5_KAddsTheFifthBitFromQh() {
        byte[] block = new byte[176];
        putHalf(block, 0, HALF_ONE);
        putHalf(block, 2, HALF_HALF);
        System.arraycopy(packedScales(SCALES, MINS), 0, block, 4, 12);
        for (int l = 0; l < 32; l++) {
            block[16 + l] = (byte) (l % 2 == 0 ? 0b0110_1001 : 0); // even l: bits 0, 3, 5, 6
        }
        Arrays.fill(block, 48, 176, (byte) 0x73); // low nibble 3, high nibble 7
        float[] x = decode(GgmlType.Q5_K, block);
        for (int i = 0; i < 256; i++) {
            int sub = i / 32;
            int l = i % 32;
            int low = (i % 64) < 32 ? 3 : 7;
            boolean fifth = l % 2 == 0 && ((0b0110_1001 >> sub) & 1) == 1; // bit `sub` of qh[l]
            int q = low + (fifth ? 16 : 0);
            assertThat(x[i]).as("element %d", i).isEqualTo(1.0f * SCALES[sub] * q - 0.5f * MINS[sub]);
        }
    }

    @Test
    void q6_KDecodesLowAndHighBitsWithSignedScales() {
        byte[] block = new byte[210];
        for (int i = 0; i < 128; i++) {
            block[i] = (byte) ((i % 16) | ((i % 7) << 4));
        }
        for (int i = 0; i < 64; i++) {
            block[128 + i] = (byte) (i * 37);
        }
        for (int i = 0; i < 16; i++) {
            block[192 + i] = (byte) (i * 9 - 70);
        }
        putHalf(block, 208, HALF_QUARTER);
        float[] x = decode(GgmlType.Q6_K, block);
        for (int i = 0; i < 256; i++) {
            int half = i / 128; // each 128 elements: 64 ql bytes, 32 qh bytes, 8 scales
            int p = (i % 128) / 32; // quarter: which nibble / which 2 qh bits
            int l = i % 32;
            int ql = block[half * 64 + l + 32 * (p & 1)] & 0xFF;
            int low = p < 2 ? ql & 15 : ql >>> 4;
            int high = ((block[128 + half * 32 + l] & 0xFF) >>> (2 * p)) & 3;
            int scale = block[192 + i / 16];
            assertThat(x[i]).as("element %d", i).isEqualTo(0.25f * scale * ((low | high << 4) - 32));
        }
    }

    @Test
    void q8_KDecodesAFloatScaleAndInt8Codes() {
        byte[] block = new byte[292];
        int quarter = Float.floatToIntBits(0.25f);
        for (int b = 0; b < 4; b++) {
            block[b] = (byte) (quarter >>> (8 * b));
        }
        for (int j = 0; j < 256; j++) {
            block[4 + j] = (byte) (j - 128);
        }
        float[] x = decode(GgmlType.Q8_K, block);
        for (int j = 0; j < 256; j++) {
            assertThat(x[j]).isEqualTo(0.25f * (j - 128));
        }
    }

    @Test
    void zeroBlocksQuantizeToTheirKnownBytes() {
        // K-quants: every scale, min and code is 0. IQ4_NL: d = 0 and the code nearest 0, index 8 (value 1).
        assertThat(CodecTestSupport.quantize(GgmlType.Q4_K, new float[256])).containsOnly(0);
        assertThat(CodecTestSupport.quantize(GgmlType.Q5_K, new float[256])).containsOnly(0);
        assertThat(CodecTestSupport.quantize(GgmlType.Q6_K, new float[256])).containsOnly(0);
        assertThat(CodecTestSupport.quantize(GgmlType.Q8_K, new float[256])).containsOnly(0);
        byte[] iq4 = CodecTestSupport.quantize(GgmlType.IQ4_NL, new float[32]);
        assertThat(Arrays.copyOfRange(iq4, 0, 2)).containsOnly(0);
        assertThat(Arrays.copyOfRange(iq4, 2, 18)).containsOnly(0x88);
    }

    @Test
    void q8_KQuantizesAgainstTheLargestMagnitudeAndSumsEach16Codes() {
        // max = -127: iscale = -127 / -127 = 1, so each code is the nearest integer (ties to even), d = 1
        float[] x = new float[256];
        x[0] = -127;
        x[1] = 2.5f; // nearest_int rounds ties to even: 2
        x[2] = 3.5f; // 4
        x[17] = 100;
        byte[] actual = CodecTestSupport.quantize(GgmlType.Q8_K, x);
        assertThat(Float.intBitsToFloat((actual[0] & 0xFF) | (actual[1] & 0xFF) << 8 | (actual[2] & 0xFF) << 16
                | (actual[3] & 0xFF) << 24)).isEqualTo(1.0f);
        assertThat(Arrays.copyOfRange(actual, 4, 8)).containsExactly(-127, 2, 4, 0);
        assertThat(actual[4 + 17]).isEqualTo((byte) 100);
        // bsums: block 0 sums -127 + 2 + 4 = -121 (0xFF87), block 1 holds 100
        assertThat(Arrays.copyOfRange(actual, 260, 264)).containsExactly(0x87, 0xFF, 100, 0);
    }

    // ------------------------------------------------------------------ IQ4_NL

    @Test
    void iq4_nlDecodesThroughTheNonLinearTable() {
        byte[] block = new byte[18];
        putHalf(block, 0, HALF_HALF);
        for (int j = 0; j < 16; j++) {
            block[2 + j] = (byte) (j | ((15 - j) << 4));
        }
        float[] x = decode(GgmlType.IQ4_NL, block);
        int[] table = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
        for (int j = 0; j < 16; j++) {
            assertThat(x[j]).isEqualTo(0.5f * table[j]);
            assertThat(x[j + 16]).isEqualTo(0.5f * table[15 - j]);
        }
    }

    @Test
    void iq4_nlQuantizesTableValuesToScaleOneAndTheirOwnCodes() {
        // x = the table itself, twice: every code fits exactly, the least-squares scale is exactly 1
        int[] table = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
        float[] x = new float[32];
        for (int j = 0; j < 32; j++) {
            x[j] = table[j % 16];
        }
        byte[] expected = new byte[18];
        putHalf(expected, 0, HALF_ONE);
        for (int j = 0; j < 16; j++) {
            expected[2 + j] = (byte) (j | (j << 4));
        }
        assertThat(CodecTestSupport.quantize(GgmlType.IQ4_NL, x)).containsExactly(expected);
    }

    @Test
    void iq4_nlPicksTheNearestEntryAndTheUpperOneOnATie() {
        assertThat(IQ4_NLCodec.bestIndex(-1000)).isEqualTo(0);
        assertThat(IQ4_NLCodec.bestIndex(1000)).isEqualTo(15);
        assertThat(IQ4_NLCodec.bestIndex(0)).isEqualTo(8); // nearer 1 than -10
        assertThat(IQ4_NLCodec.bestIndex(-4.5f)).isEqualTo(8); // halfway between -10 and 1: upper
        assertThat(IQ4_NLCodec.bestIndex(-4.5001f)).isEqualTo(7);
        assertThat(IQ4_NLCodec.bestIndex(101)).isEqualTo(15); // halfway between 89 and 113: upper
        assertThat(IQ4_NLCodec.bestIndex(100.99f)).isEqualTo(14);
    }

    // ------------------------------------------------------------------ NF4 / FP4 (GGUF extension)

    @Test
    void nf4BlocksPutTheFirstElementInTheHighNibble() {
        byte[] block = new byte[34];
        putHalf(block, 0, HALF_TWO); // absmax 2
        block[2] = 0x0F; // element 0: code 0 (-1), element 1: code 15 (+1)
        block[3] = 0x78; // element 2: code 7 (0), element 3: code 8 (0.0796)
        float[] x = decode(GgmlType.NF4, block);
        assertThat(x[0]).isEqualTo(-2f);
        assertThat(x[1]).isEqualTo(2f);
        assertThat(x[2]).isEqualTo(0f);
        assertThat(x[3]).isEqualTo(2f * 0.07958029955625534f);
        assertThat(x[4]).isEqualTo(-2f); // byte 0 again: code 0
    }

    @Test
    void fp4BlocksDecodeTheSignedE2M1Table() {
        byte[] block = new byte[34];
        putHalf(block, 0, 0x4A00); // absmax 12: values become the e2m1 magnitudes 0 .. 12
        int[] codes = {0b0000, 0b0001, 0b0110, 0b0111, 0b0100, 0b0101, 0b0010, 0b0011,
            0b1011, 0b1110, 0b1001, 0b1000};
        float[] expected = {0, 0.0625f, 2, 3, 4, 6, 8, 12, -12, -2, -0.0625f, -0f};
        for (int k = 0; k < codes.length / 2; k++) {
            block[2 + k] = (byte) ((codes[2 * k] << 4) | codes[2 * k + 1]);
        }
        float[] x = decode(GgmlType.FP4, block);
        for (int i = 0; i < expected.length; i++) {
            assertThat(x[i]).as("code %s", Integer.toBinaryString(codes[i])).isCloseTo(expected[i],
                    org.assertj.core.data.Offset.offset(1e-5f));
        }
    }

    @Test
    void nf4QuantizesAgainstTheBlockAbsmax() {
        float[] x = new float[64];
        x[0] = -3; // absmax 3 -> code 0 (-1)
        x[1] = 3; // code 15
        x[2] = 0.5f; // 0.1667 -> between 0.1609 (9) and 0.2461 (10), nearer 9
        x[3] = -0.1f; // -0.0333: nearest is 0 (code 7)
        byte[] actual = CodecTestSupport.quantize(GgmlType.NF4, x);
        assertThat(actual[0]).isEqualTo((byte) 0x00);
        assertThat(actual[1]).isEqualTo((byte) 0x42); // fp16 3.0
        assertThat(actual[2]).isEqualTo((byte) 0x0F);
        assertThat(actual[3]).isEqualTo((byte) 0x97);
        assertThat(actual[4]).isEqualTo((byte) 0x77); // zeros: code 7
    }
}
