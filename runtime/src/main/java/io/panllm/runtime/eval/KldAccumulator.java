package io.panllm.runtime.eval;

import io.panllm.runtime.FixedOrderMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * The sums llama.cpp's {@code kl_divergence_result} keeps while comparing a model with the base
 * log-probabilities, plus every token's KL divergence and Δp for the percentiles.
 */
final class KldAccumulator {

    /** llama.cpp skips base probabilities below e^-16 in the KL sum. */
    private static final float NEGLIGIBLE_LOG_PROB = -16f;

    double sumNll;
    double sumNll2;
    double sumNllBase;
    double sumNllBase2;
    double sumNllNllBase;
    double sumKld;
    double sumKld2;
    double sumPDiff;
    double sumPDiff2;
    double sumPDiff4;
    long sameTop;
    int count;
    final float[] kldValues;
    final float[] pDiffValues;
    /** The base log-probabilities of the position being added, dequantized. */
    private float[] baseLogProbs = new float[0];

    KldAccumulator(long capacity) {
        if (capacity > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(capacity + " scored tokens are too many to keep per-token statistics");
        }
        kldValues = new float[(int) capacity];
        pDiffValues = new float[(int) capacity];
    }

    /**
     * Adds one scored position: the model's {@code logits}, the base's log-probabilities and the
     * token that actually follows. The arithmetic is llama.cpp's, float where it uses float.
     */
    void add(float[] logits, QuantizedLogProbs base, int target) {
        int best = LogSoftmax.argmax(logits);
        float maxLogit = logits[best];
        float logSumExp = (float) Math.log(LogSoftmax.sumExp(logits, maxLogit));

        float nll = maxLogit + logSumExp - logits[target];
        sumNll += nll;
        sumNll2 += nll * nll;
        float nllBase = -base.logProb(target);
        sumNllBase += nllBase;
        sumNllBase2 += nllBase * nllBase;
        sumNllNllBase += nll * nllBase;

        // KL(base || model) = sum p_base * (log p_base - log p_model), log p_model = logit - (max + lse).
        if (baseLogProbs.length != logits.length) {
            baseLogProbs = new float[logits.length];
        }
        int bestBase = 0;
        for (int i = 0; i < logits.length; i++) {
            baseLogProbs[i] = base.logProb(i);
            if (baseLogProbs[i] > baseLogProbs[bestBase]) {
                bestBase = i;
            }
        }
        double kld = klDivergence(baseLogProbs, logits, maxLogit + logSumExp);
        sumKld += kld;
        sumKld2 += kld * kld;
        if (best == bestBase) {
            sameTop++;
        }

        float pDiff = (float) Math.exp(-nll) - (float) Math.exp(-nllBase);
        sumPDiff += pDiff;
        double pDiff2 = (double) pDiff * pDiff;
        sumPDiff2 += pDiff2;
        sumPDiff4 += pDiff2 * pDiff2;

        kldValues[count] = (float) kld;
        pDiffValues[count] = pDiff;
        count++;
    }

    /**
     * sum over the tokens with log p_base > -16 of p_base * (log p_base - logit + logNormalizer),
     * each term in float as llama.cpp computes it, the sum in double.
     */
    private static double klDivergence(float[] baseLogProbs, float[] logits, float logNormalizer) {
        double sum = 0;
        int i = 0;
        for (int bound = LogSoftmax.SPECIES.loopBound(logits.length); i < bound; i += LogSoftmax.SPECIES.length()) {
            FloatVector logProbBase = FloatVector.fromArray(LogSoftmax.SPECIES, baseLogProbs, i);
            VectorMask<Float> counted = logProbBase.compare(VectorOperators.GT, NEGLIGIBLE_LOG_PROB);
            FloatVector logRatio = logProbBase.sub(FloatVector.fromArray(LogSoftmax.SPECIES, logits, i))
                    .add(logNormalizer);
            FloatVector terms = FixedOrderMath.exp(logProbBase).mul(logRatio);
            sum += FixedOrderMath.sum(FloatVector.zero(LogSoftmax.SPECIES).blend(terms, counted));
        }
        for (; i < logits.length; i++) {
            if (baseLogProbs[i] > NEGLIGIBLE_LOG_PROB) {
                sum += (float) Math.exp(baseLogProbs[i]) * (baseLogProbs[i] - logits[i] + logNormalizer);
            }
        }
        return sum;
    }

    Estimate logPerplexity() {
        return Estimate.mean(sumNll, sumNll2, count);
    }

    Estimate logPerplexityBase() {
        return Estimate.mean(sumNllBase, sumNllBase2, count);
    }

    /** llama.cpp's covariance of the two mean log-perplexities (0 below ten values). */
    double logPerplexityCovariance() {
        if (count < 10) {
            return 0;
        }
        double covariance = sumNllNllBase / count - (sumNll / count) * (sumNllBase / count);
        return covariance / (count - 1);
    }

    /** ln(PPL(Q)/PPL(base)) with the uncertainty of a difference of correlated means. */
    Estimate logPerplexityRatio() {
        Estimate q = logPerplexity();
        Estimate base = logPerplexityBase();
        double variance = q.uncertainty() * q.uncertainty() + base.uncertainty() * base.uncertainty()
                - 2 * logPerplexityCovariance();
        // Identical models give 0 up to rounding, which llama.cpp prints as nan; clamp to 0.
        return new Estimate(q.value() - base.value(), Math.sqrt(Math.max(0, variance)));
    }

    Estimate meanKld() {
        return Estimate.mean(sumKld, sumKld2, count);
    }

    /** Root mean square of Δp; its uncertainty from the MSE's by d sqrt(x)/dx = 1/(2 sqrt(x)). */
    Estimate rmsDeltaP() {
        Estimate meanSquare = Estimate.mean(sumPDiff2, sumPDiff4, count);
        double rms = Math.sqrt(meanSquare.value());
        return new Estimate(rms, rms == 0 ? 0 : 0.5 / rms * meanSquare.uncertainty());
    }

    /** Fraction of positions where both models rank the same token first, with its binomial error. */
    Estimate sameTopFraction() {
        double fraction = (double) sameTop / count;
        return new Estimate(fraction, count < 2 ? 0 : Math.sqrt(fraction * (1 - fraction) / (count - 1)));
    }

    Estimate perplexity(Estimate logPerplexity) {
        double value = Math.exp(logPerplexity.value());
        return new Estimate(value, value * logPerplexity.uncertainty());
    }
}
