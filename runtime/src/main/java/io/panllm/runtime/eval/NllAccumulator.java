package io.panllm.runtime.eval;

/** Running sums of per-token negative log-likelihoods, and the perplexity they give. */
final class NllAccumulator {

    private double sum;
    private double sumOfSquares;
    private long count;

    void add(double nll) {
        sum += nll;
        sumOfSquares += nll * nll;
        count++;
    }

    long count() {
        return count;
    }

    /** exp(mean nll). */
    double perplexity() {
        return Math.exp(sum / count);
    }

    /**
     * llama.cpp's uncertainty of the perplexity: the standard error of the mean nll,
     * sqrt((mean(nll^2) - mean(nll)^2) / (count - 1)), times the perplexity (the delta method:
     * d exp(x)/dx = exp(x)). 0 when the variance is not positive (llama.cpp prints an error then).
     */
    double standardError() {
        double mean = sum / count;
        double variance = sumOfSquares / count - mean * mean;
        if (!(variance > 0) || count < 2) {
            return 0;
        }
        return Math.sqrt(variance / (count - 1)) * perplexity();
    }
}
