package io.panllm.kernels.reference;

import static org.assertj.core.api.Assertions.assertThat;

import io.panllm.kernels.RandomWeights;
import io.panllm.kernels.WeightFormat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

class Dp4aReferenceTest {
    @Test
    void blockMaximumBecomes127AndCodesStayClose() {
        float[] x = RandomWeights.gaussian(new Random(3), 96, 2.0);
        x[40] = -9.5f; // the largest of block 1
        byte[] q = Dp4aReference.codes(x);
        double[] xHat = Dp4aReference.quantized(x);
        assertThat(q[40]).isEqualTo((byte) -127);
        for (int i = 0; i < x.length; i++) {
            float d = Dp4aReference.scale(x, i / 32);
            assertThat(Math.abs(xHat[i] - x[i])).isLessThanOrEqualTo(0.5 * d * 1.0001);
        }
    }

    @Test
    void zeroBlockHasZeroCodes() {
        float[] x = new float[64];
        x[33] = 1;
        assertThat(Dp4aReference.codes(x)[5]).isZero();
        assertThat(Dp4aReference.codes(x)[33]).isEqualTo((byte) 127);
    }

    @Test
    void nf4Int8CodebookIsTheTableTimes127Rounded() {
        // one NF4 block, absmax 1, codes 0..15 twice: Dequantize gives the float table
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment block = arena.allocate(34);
            block.set(ValueLayout.JAVA_SHORT_UNALIGNED, 0, Float.floatToFloat16(1f));
            for (int k = 0; k < 32; k++) {
                block.set(ValueLayout.JAVA_BYTE, 2 + k, (byte) (((k % 16) << 4) | (k % 16)));
            }
            float[] exact = Dequantize.row(WeightFormat.NF4, block, 0, 64);
            float[] rounded = Dp4aReference.nf4Row(block, 0, 64);
            for (int code = 0; code < 16; code++) {
                assertThat(Dp4aReference.NF4_INT8[code]).isEqualTo(Math.round(exact[2 * code] * 127));
                assertThat((double) rounded[2 * code]).isCloseTo(exact[2 * code], org.assertj.core.data.Offset.offset(0.5 / 127));
            }
        }
    }

    @Test
    void productIsCloseToTheExactOne() {
        Random random = new Random(5);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = RandomWeights.matrix(arena, random, WeightFormat.Q4_0, 8, 256);
            float[] x = RandomWeights.gaussian(random, 256, 1.0);
            float[] exact = GemvReference.multiply(WeightFormat.Q4_0, w, x, 8, 256);
            float[] quantized = Dp4aReference.multiply(WeightFormat.Q4_0, w, x, 8, 256);
            double diff = 0;
            double norm = 0;
            for (int i = 0; i < 8; i++) {
                diff += Math.pow(exact[i] - quantized[i], 2);
                norm += Math.pow(exact[i], 2);
            }
            // int8 x: about 0.5% per element, far less than 5% on a dot product of 256
            assertThat(Math.sqrt(diff / norm)).isBetween(1e-5, 0.05);
        }
    }
}
