package io.panllm.runtime;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector operations whose result does not depend on how the JVM runs them. The Vector API leaves
 * the order of {@code reduceLanes(ADD)} open and computes {@code lanewise(EXP)} one way when
 * interpreted (Math.exp per lane) and another when compiled (the SVML stubs): measured on an
 * AVX-512 machine, a third of float lane sums and a tenth of vector exponentials came out
 * different before and after C2 compiled the same code. Since a method gets compiled at a moment
 * that depends on timing, the same perplexity run printed different digits from run to run and
 * with the thread count. These replacements only use lane-wise IEEE operations (add, multiply,
 * fused multiply-add, shuffles, bit moves), which every execution tier computes identically.
 */
public final class FixedOrderMath {

    /** The species the CPU kernels use. */
    public static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    /** Shuffles pairing lane i with lane i ^ (n/2), then i ^ (n/4), ..., i ^ 1: a fixed reduction tree. */
    private static final VectorShuffle<Float>[] FOLDS = folds();

    private static final float LOG2E = 1.44269504088896341f;
    /** ln 2 in two parts (Cephes' expf): n * LN2_HI is exact for the n that occur. */
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** 1.5 * 2^23: adding it rounds a float below 2^22 to an integer (to nearest even), kept in the low mantissa bits. */
    private static final float ROUNDER = 12582912f;
    private static final int ROUNDER_BITS = 0x4B400000;
    /** Beyond these, e^x is +inf or 0 in float anyway; the clamp keeps 2^n's exponent arithmetic in range. */
    private static final float EXP_MAX = 88.8f;
    private static final float EXP_MIN = -104f;

    private FixedOrderMath() {
    }

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] folds() {
        int steps = Integer.numberOfTrailingZeros(SPECIES.length());
        VectorShuffle<Float>[] folds = new VectorShuffle[steps];
        for (int s = 0; s < steps; s++) {
            int distance = SPECIES.length() >> (s + 1);
            folds[s] = VectorShuffle.fromOp(SPECIES, i -> i ^ distance);
        }
        return folds;
    }

    /**
     * The sum of the lanes of a vector of {@link #SPECIES}, always added in the same tree
     * (lane i with lane i + n/2, then the halves' halves, ...).
     */
    public static float sum(FloatVector v) {
        for (VectorShuffle<Float> fold : FOLDS) {
            v = v.add(v.rearrange(fold));
        }
        return v.lane(0);
    }

    /**
     * e^x lane by lane, within 2 ulp of {@link Math#exp} (Cephes' expf: x = n ln 2 + r, a degree-7
     * polynomial in r, times 2^n); +inf above 88.72, 0 (through subnormals) below -103.97, NaN
     * for NaN.
     */
    public static FloatVector exp(FloatVector x) {
        FloatVector clamped = x.max(EXP_MIN).min(EXP_MAX);
        FloatVector shifted = clamped.mul(LOG2E).add(ROUNDER);
        FloatVector n = shifted.sub(ROUNDER);
        IntVector exponent = shifted.reinterpretAsInts().sub(ROUNDER_BITS);
        FloatVector r = n.fma(FloatVector.broadcast(SPECIES, -LN2_HI), clamped);
        r = n.fma(FloatVector.broadcast(SPECIES, -LN2_LO), r);
        FloatVector p = r.mul(1.9875691500e-4f).add(1.3981999507e-3f);
        p = p.fma(r, FloatVector.broadcast(SPECIES, 8.3334519073e-3f));
        p = p.fma(r, FloatVector.broadcast(SPECIES, 4.1665795894e-2f));
        p = p.fma(r, FloatVector.broadcast(SPECIES, 1.6666665459e-1f));
        p = p.fma(r, FloatVector.broadcast(SPECIES, 5.0000001201e-1f));
        p = p.fma(r.mul(r), r).add(1f);
        // 2^n as two factors, so that n from -150 to 128 needs no subnormal or infinite factor.
        IntVector half = exponent.lanewise(VectorOperators.ASHR, 1);
        FloatVector scale1 = half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector scale2 = exponent.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector result = p.mul(scale1).mul(scale2);
        // NaN in, NaN out (the clamp above would turn it into a number on some tiers).
        return result.blend(x, x.test(VectorOperators.IS_NAN));
    }
}
