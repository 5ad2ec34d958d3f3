package io.panllm.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/** The importance-weighted quantizers against {@link WeightedReference} and llama.cpp's documented behaviour. */
class WeightedQuantizationTest {
    private static final Set<GgmlType> WEIGHTED = EnumSet.of(GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1,
            GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ4_NL);

    static byte[] quantizeRows(GgmlType type, float[] x, int rows, int rowLength, float[] importance) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(type.byteSize((long) rows * rowLength));
            type.codec().quantizeRows(x, 0, rows, rowLength, importance, dst);
            return dst.toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /** Rows of mixed shapes: gaussian, heavy outliers, one-signed, and a block of zeros. */
    static float[] rows(Random random, int rows, int rowLength) {
        float[] x = new float[rows * rowLength];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < rowLength; j++) {
                float g = (float) random.nextGaussian();
                x[r * rowLength + j] = switch (r % 4) {
                    case 0 -> g * 0.02f;
                    case 1 -> random.nextInt(50) == 0 ? g * 3f : g * 0.1f;
                    case 2 -> Math.abs(g) + 0.5f;
                    default -> j < 32 ? 0f : g;
                };
            }
        }
        return x;
    }

    /** Importance like an imatrix: positive, spread over orders of magnitude, a few columns dominant. */
    static float[] importance(Random random, int rowLength) {
        float[] w = new float[rowLength];
        for (int j = 0; j < rowLength; j++) {
            w[j] = (float) Math.exp(2 * random.nextGaussian()) * (random.nextInt(20) == 0 ? 100f : 1f);
        }
        return w;
    }

    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL"})
    void weightedQuantizerMatchesScalarRederivation(GgmlType type) {
        Random random = new Random(42 + type.ordinal());
        int rowLength = 512;
        int rows = 8;
        for (int trial = 0; trial < 4; trial++) {
            float[] x = rows(random, rows, rowLength);
            float[] w = importance(random, rowLength);
            assertArrayEquals(WeightedReference.quantize(type, x, rows, rowLength, w), quantizeRows(type, x, rows, rowLength, w),
                    type + " trial " + trial);
        }
    }

    @Test
    void everyTypeSaysWhetherItUsesImportance() {
        for (GgmlType type : GgmlType.values()) {
            BlockCodec codec;
            try {
                codec = type.codec();
            } catch (UnsupportedTypeException e) {
                continue;
            }
            assertEquals(WEIGHTED.contains(type), codec.usesImportance(), type.toString());
        }
    }

    /**
     * llama.cpp runs its *_impl quantizers whenever an imatrix entry exists, so an all-ones imatrix
     * is not the unweighted path: Q4_0 then gets the weighted scale search (weights sqrt(sigma2 + x²)),
     * not max / -8. Q8_0 ignores the imatrix, so there it is the same bytes.
     */
    @Test
    void allOnesImatrixRunsTheWeightedSearchExceptForQ8_0() {
        Random random = new Random(7);
        int rowLength = 256;
        float[] x = rows(random, 4, rowLength);
        float[] ones = new float[rowLength];
        Arrays.fill(ones, 1f);
        assertArrayEquals(CodecTestSupport.quantize(GgmlType.Q8_0, x), quantizeRows(GgmlType.Q8_0, x, 4, rowLength, ones));
        for (GgmlType type : WEIGHTED) {
            byte[] weighted = quantizeRows(type, x, 4, rowLength, ones);
            assertArrayEquals(WeightedReference.quantize(type, x, 4, rowLength, ones), weighted, type.toString());
            assertFalse(Arrays.equals(CodecTestSupport.quantize(type, x), weighted), type + ": all-ones equals the unweighted bytes");
        }
    }

    @Test
    void nullImportanceIsTheUnweightedQuantizer() {
        float[] x = rows(new Random(3), 4, 256);
        for (GgmlType type : WEIGHTED) {
            assertArrayEquals(CodecTestSupport.quantize(type, x), quantizeRows(type, x, 4, 256, null), type.toString());
        }
    }

    /** What the weighting is for: the error on the columns the imatrix marks important goes down. */
    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q4_K", "IQ4_NL"})
    void weightingLowersTheImportanceWeightedError(GgmlType type) {
        Random random = new Random(11);
        int rowLength = 1024;
        int rows = 64;
        float[] x = new float[rows * rowLength];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        float[] w = importance(random, rowLength);
        double plain = weightedError(type, x, CodecTestSupport.quantize(type, x), w, rowLength);
        double weighted = weightedError(type, x, quantizeRows(type, x, rows, rowLength, w), w, rowLength);
        assertTrue(weighted < 0.9 * plain, type + ": weighted error " + weighted + " vs unweighted " + plain);
    }

    private static double weightedError(GgmlType type, float[] x, byte[] bytes, float[] w, int rowLength) {
        float[] y = type.codec().dequantize(MemorySegment.ofArray(bytes), x.length);
        double sum = 0;
        for (int i = 0; i < x.length; i++) {
            double d = x[i] - y[i];
            sum += w[i % rowLength] * d * d;
        }
        return sum;
    }

    @Test
    void importanceOfTheWrongLengthIsRefused() {
        float[] x = new float[64];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(GgmlType.Q4_0.byteSize(64));
            assertThrows(IllegalArgumentException.class,
                    () -> GgmlType.Q4_0.codec().quantizeRows(x, 0, 2, 32, new float[64], dst));
            assertThrows(IllegalArgumentException.class,
                    () -> GgmlType.Q4_0.codec().quantizeRows(x, 0, 1, 48, null, dst));
        }
    }
}
