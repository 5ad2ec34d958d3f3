package io.panllm.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

class FixedOrderMathTest {

    private static final int LANES = FixedOrderMath.SPECIES.length();

    @Test
    void sumAddsTheLanesInAFixedTree() {
        Random random = new Random(3);
        for (int trial = 0; trial < 1000; trial++) {
            float[] lanes = new float[LANES];
            for (int i = 0; i < LANES; i++) {
                lanes[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(8) - 4));
            }
            // The tree by hand: lane i with lane i + n/2, then the first half's halves, and so on.
            float[] tree = lanes.clone();
            for (int width = LANES / 2; width >= 1; width /= 2) {
                for (int i = 0; i < width; i++) {
                    tree[i] = tree[i] + tree[i + width];
                }
            }
            float sum = FixedOrderMath.sum(FloatVector.fromArray(FixedOrderMath.SPECIES, lanes, 0));
            assertThat(Float.floatToRawIntBits(sum)).as("trial %d", trial).isEqualTo(Float.floatToRawIntBits(tree[0]));
        }
    }

    @Test
    void expIsWithinTwoUlpOfMathExpOverTheFloatRange() {
        float[] x = new float[LANES];
        float[] out = new float[LANES];
        int worstUlps = 0;
        for (float start = -110f; start < 90f; start += 0.0173f * LANES) {
            for (int i = 0; i < LANES; i++) {
                x[i] = start + 0.0173f * i;
            }
            FixedOrderMath.exp(FloatVector.fromArray(FixedOrderMath.SPECIES, x, 0)).intoArray(out, 0);
            for (int i = 0; i < LANES; i++) {
                float expected = (float) Math.exp(x[i]);
                if (expected < Float.MIN_NORMAL) { // subnormal results: absolute error within a few of the smallest steps
                    assertThat(Math.abs(out[i] - expected)).as("exp(%s)", x[i]).isLessThanOrEqualTo(4 * Float.MIN_VALUE);
                    continue;
                }
                if (Float.isInfinite(expected)) {
                    assertThat(out[i]).as("exp(%s)", x[i]).isEqualTo(Float.POSITIVE_INFINITY);
                    continue;
                }
                int ulps = Math.abs(Float.floatToIntBits(out[i]) - Float.floatToIntBits(expected));
                worstUlps = Math.max(worstUlps, ulps);
            }
        }
        assertThat(worstUlps).isLessThanOrEqualTo(2);
    }

    @Test
    void expOfSpecialValues() {
        float[] x = new float[LANES];
        float[] special = {0f, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN, -1e30f, 1e30f, 1f, -0f};
        for (int i = 0; i < LANES; i++) {
            x[i] = special[i % special.length];
        }
        float[] out = new float[LANES];
        FixedOrderMath.exp(FloatVector.fromArray(FixedOrderMath.SPECIES, x, 0)).intoArray(out, 0);
        for (int i = 0; i < LANES; i++) {
            float expected = (float) Math.exp(x[i]);
            assertThat(out[i]).as("exp(%s)", x[i]).isCloseTo(expected, org.assertj.core.data.Percentage.withPercentage(1e-5));
        }
    }
}
