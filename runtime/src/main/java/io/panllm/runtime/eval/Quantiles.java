package io.panllm.runtime.eval;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Order statistics of a set of values, with llama.cpp's definitions: a percentile interpolates
 * linearly between the two nearest of the sorted values (position fraction * (n - 1)), the
 * median of an even count is the mean of the two middle values.
 *
 * @param min    the smallest value
 * @param max    the largest value
 * @param median the median
 * @param values the values at {@link #FRACTIONS}, in the same order
 */
public record Quantiles(double min, double max, double median, double[] values) {

    /** The fractions reported: 0.1%, 1%, 5%, 10%, 25%, 75%, 90%, 95%, 99%, 99.9%. */
    public static final double[] FRACTIONS = {0.001, 0.01, 0.05, 0.10, 0.25, 0.75, 0.90, 0.95, 0.99, 0.999};
    private static final String[] LABELS = {"p0.1", "p1", "p5", "p10", "p25", "p75", "p90", "p95", "p99", "p99.9"};

    /** Sorts {@code values} in place and summarizes them. */
    static Quantiles of(float[] values) {
        if (values.length == 0) {
            double[] nothing = new double[FRACTIONS.length];
            Arrays.fill(nothing, Double.NaN);
            return new Quantiles(Double.NaN, Double.NaN, Double.NaN, nothing);
        }
        Arrays.sort(values);
        int n = values.length;
        double median = n % 2 == 0 ? 0.5 * (values[n / 2] + values[n / 2 - 1]) : values[n / 2];
        double[] atFractions = new double[FRACTIONS.length];
        for (int i = 0; i < FRACTIONS.length; i++) {
            atFractions[i] = percentile(values, FRACTIONS[i]);
        }
        return new Quantiles(values[0], values[n - 1], median, atFractions);
    }

    /** The value at {@code fraction} of the sorted {@code values} (llama.cpp's {@code percentile}). */
    static double percentile(float[] sorted, double fraction) {
        if (fraction <= 0) {
            return sorted[0];
        }
        if (fraction >= 1) {
            return sorted[sorted.length - 1];
        }
        double position = fraction * (sorted.length - 1);
        int below = (int) position;
        double weight = position - below;
        return (1 - weight) * sorted[below] + weight * sorted[Math.min(below + 1, sorted.length - 1)];
    }

    /** The value at one of {@link #FRACTIONS}. */
    public double at(double fraction) {
        for (int i = 0; i < FRACTIONS.length; i++) {
            if (FRACTIONS[i] == fraction) {
                return values[i];
            }
        }
        throw new IllegalArgumentException(fraction + " is not one of the reported fractions "
                + Arrays.toString(FRACTIONS));
    }

    /** {"min": .., "p0.1": .., "p1": .., ..., "median": .., ..., "p99.9": .., "max": ..} */
    public Map<String, Object> toMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("min", Estimate.jsonNumber(min));
        for (int i = 0; i < FRACTIONS.length; i++) {
            if (FRACTIONS[i] > 0.5 && !map.containsKey("median")) {
                map.put("median", Estimate.jsonNumber(median));
            }
            map.put(LABELS[i], Estimate.jsonNumber(values[i]));
        }
        map.put("max", Estimate.jsonNumber(max));
        return map;
    }
}
