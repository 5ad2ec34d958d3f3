package io.panllm.runtime.eval;

import java.util.LinkedHashMap;
import java.util.Map;

/** A statistic and its uncertainty (one standard error), as llama.cpp prints "x ± y". */
public record Estimate(double value, double uncertainty) {

    /**
     * llama.cpp's {@code mean_and_uncertainty}: the mean of {@code count} values from their sum and
     * sum of squares, and the standard error of that mean, sqrt(var / (count - 1)). The error is 0
     * for ten values or fewer, or a non-positive variance, as there.
     */
    static Estimate mean(double sum, double sumOfSquares, long count) {
        if (count < 1) {
            return new Estimate(0, 0);
        }
        double mean = sum / count;
        double variance = sumOfSquares / count - mean * mean;
        double error = variance > 0 && count > 10 ? Math.sqrt(variance / (count - 1)) : 0;
        return new Estimate(mean, error);
    }

    Map<String, Object> toMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("value", jsonNumber(value));
        map.put("uncertainty", jsonNumber(uncertainty));
        return map;
    }

    /** The value, or null where JSON has no number for it (NaN, infinities). */
    static Double jsonNumber(double value) {
        return Double.isFinite(value) ? value : null;
    }
}
