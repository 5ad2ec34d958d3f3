package io.panllm.kernels.reference;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class LayerReferenceTest {
    @Test
    void rmsNormScalesToUnitRootMeanSquare() {
        float[] x = {3, -4, 3, -4};
        float[] out = LayerReference.rmsNorm(x, new float[]{1, 1, 2, 2}, 1, 4, 0f);
        // rms = sqrt((9 + 16 + 9 + 16) / 4) = sqrt(12.5)
        double rms = Math.sqrt(12.5);
        assertThat(out).containsExactly(new float[]{(float) (3 / rms), (float) (-4 / rms), (float) (6 / rms),
                (float) (-8 / rms)}, within(1e-6f));
    }

    @Test
    void swigluIsSiluOfGateTimesUp() {
        float[] out = LayerReference.swiglu(new float[]{0, 1, -30}, new float[]{5, 2, 1});
        assertThat(out[0]).isZero();
        assertThat(out[1]).isCloseTo((float) (2 / (1 + Math.exp(-1))), within(1e-6f));
        assertThat(out[2]).isCloseTo(0f, within(1e-10f));
    }

    @Test
    void ropeRotatesAdjacentPairs() {
        float[] x = {1, 2, 3, 4};
        // one head of 4: pair 0 at frequency pi/2 per position, pair 1 at 0
        float[] invFreq = {(float) (Math.PI / 2), 0};
        assertThat(LayerReference.rope(x, invFreq, 0, 1, 4)).containsExactly(x);
        float[] rotated = LayerReference.rope(x, invFreq, 1, 1, 4);
        assertThat(rotated).containsExactly(new float[]{-2, 1, 3, 4}, within(1e-6f));
    }

    @Test
    void inverseFrequenciesFallFromOne() {
        float[] invFreq = LayerReference.inverseFrequencies(128, 10000);
        assertThat(invFreq[0]).isEqualTo(1f);
        assertThat(invFreq[1]).isCloseTo((float) Math.pow(10000, -2.0 / 128), within(1e-7f));
        assertThat(invFreq).hasSize(64);
    }
}
