package io.panllm.runtime.eval;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How far a model (typically a quantization) is from the base model whose log-probabilities were
 * saved, with the statistics of llama.cpp's {@code --kl-divergence} report.
 *
 * @param chunks           chunks compared
 * @param contextSize      tokens per chunk
 * @param tokens           positions scored
 * @param perplexity       PPL(Q), the model under test
 * @param basePerplexity   PPL(base), from the saved log-probabilities
 * @param lnPplCorrelation correlation of the per-token nll of the two (as llama.cpp's Cor(ln PPL(Q), ln PPL(base)))
 * @param lnPplRatio       ln(PPL(Q)/PPL(base))
 * @param pplRatio         PPL(Q)/PPL(base)
 * @param pplDifference    PPL(Q)-PPL(base)
 * @param meanKld          mean KL(base || Q) per token
 * @param kld              its distribution over tokens
 * @param meanDeltaP       mean of Δp = p_Q(correct token) - p_base(correct token)
 * @param deltaP           the distribution of Δp
 * @param rmsDeltaP        root mean square of Δp
 * @param sameTop          fraction of positions where both put the same token first
 */
public record KldResult(int chunks, int contextSize, long tokens,
                        Estimate perplexity, Estimate basePerplexity, double lnPplCorrelation,
                        Estimate lnPplRatio, Estimate pplRatio, Estimate pplDifference,
                        Estimate meanKld, Quantiles kld,
                        Estimate meanDeltaP, Quantiles deltaP, Estimate rmsDeltaP,
                        Estimate sameTop) {

    /** Computes the final statistics (sorts the accumulator's per-token values in place). */
    static KldResult from(KldAccumulator sums, int chunks, int contextSize) {
        Estimate logPpl = sums.logPerplexity();
        Estimate logPplBase = sums.logPerplexityBase();
        Estimate ppl = sums.perplexity(logPpl);
        Estimate pplBase = sums.perplexity(logPplBase);
        double covariance = sums.logPerplexityCovariance();
        double correlation = covariance / (logPpl.uncertainty() * logPplBase.uncertainty());
        Estimate lnRatio = sums.logPerplexityRatio();
        double ratio = Math.exp(lnRatio.value());
        double pplCovariance = ppl.value() * pplBase.value() * covariance;
        double differenceVariance = ppl.uncertainty() * ppl.uncertainty()
                + pplBase.uncertainty() * pplBase.uncertainty() - 2 * pplCovariance;
        return new KldResult(chunks, contextSize, sums.count, ppl, pplBase, correlation, lnRatio,
                new Estimate(ratio, ratio * lnRatio.uncertainty()),
                new Estimate(ppl.value() - pplBase.value(), Math.sqrt(Math.max(0, differenceVariance))),
                sums.meanKld(), Quantiles.of(sums.kldValues),
                Estimate.mean(sums.sumPDiff, sums.sumPDiff2, sums.count), Quantiles.of(sums.pDiffValues),
                sums.rmsDeltaP(), sums.sameTopFraction());
    }

    /** A map of plain values (numbers, strings, nested maps) for a JSON writer. */
    public Map<String, Object> toMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("chunks", chunks);
        map.put("context_size", contextSize);
        map.put("tokens", tokens);
        map.put("ppl", perplexity.toMap());
        map.put("ppl_base", basePerplexity.toMap());
        map.put("ln_ppl_correlation", lnPplCorrelation);
        map.put("ln_ppl_ratio", lnPplRatio.toMap());
        map.put("ppl_ratio", pplRatio.toMap());
        map.put("ppl_difference", pplDifference.toMap());
        map.put("kld_mean", meanKld.toMap());
        map.put("kld", kld.toMap());
        map.put("delta_p_mean", meanDeltaP.toMap());
        map.put("delta_p", deltaP.toMap());
        map.put("delta_p_rms", rmsDeltaP.toMap());
        map.put("same_top_p", sameTop.toMap());
        return map;
    }
}
