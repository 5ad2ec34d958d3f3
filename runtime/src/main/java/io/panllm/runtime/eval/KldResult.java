package io.panllm.runtime.eval;

import java.util.LinkedHashMap;
import java.util.Locale;
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
 *                         (lnPplCorrelation is NaN when either model's per-token nll has no spread)
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
        map.put("ln_ppl_correlation", Estimate.jsonNumber(lnPplCorrelation));
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

    /** The final report in the layout of llama.cpp's {@code --kl-divergence} output. */
    public String report() {
        StringBuilder out = new StringBuilder();
        line(out, "====== Perplexity statistics ======");
        line(out, "Mean PPL(Q)                   : %10.6f ± %10.6f", perplexity.value(), perplexity.uncertainty());
        line(out, "Mean PPL(base)                : %10.6f ± %10.6f", basePerplexity.value(),
                basePerplexity.uncertainty());
        line(out, "Cor(ln(PPL(Q)), ln(PPL(base))): %6.2f%%", 100 * lnPplCorrelation);
        line(out, "Mean ln(PPL(Q)/PPL(base))     : %10.6f ± %10.6f", lnPplRatio.value(), lnPplRatio.uncertainty());
        line(out, "Mean PPL(Q)/PPL(base)         : %10.6f ± %10.6f", pplRatio.value(), pplRatio.uncertainty());
        line(out, "Mean PPL(Q)-PPL(base)         : %10.6f ± %10.6f", pplDifference.value(),
                pplDifference.uncertainty());
        line(out, "");
        line(out, "====== KL divergence statistics ======");
        line(out, "Mean    KLD: %10.6f ± %10.6f", meanKld.value(), meanKld.uncertainty());
        line(out, "Maximum KLD: %10.6f", kld.max());
        for (double fraction : new double[] {0.999, 0.99, 0.95, 0.90}) {
            line(out, "%-8sKLD: %10.6f", percentLabel(fraction), kld.at(fraction));
        }
        line(out, "Median  KLD: %10.6f", kld.median());
        for (double fraction : new double[] {0.10, 0.05, 0.01, 0.001}) {
            line(out, "%-8sKLD: %10.6f", percentLabel(fraction), kld.at(fraction));
        }
        line(out, "Minimum KLD: %10.6f", kld.min());
        line(out, "");
        line(out, "====== Token probability statistics ======");
        line(out, "Mean    Δp: %6.3f ± %5.3f %%", 100 * meanDeltaP.value(), 100 * meanDeltaP.uncertainty());
        line(out, "Maximum Δp: %6.3f%%", 100 * deltaP.max());
        for (double fraction : new double[] {0.999, 0.99, 0.95, 0.90, 0.75}) {
            line(out, "%-8sΔp: %6.3f%%", percentLabel(fraction), 100 * deltaP.at(fraction));
        }
        line(out, "Median  Δp: %6.3f%%", 100 * deltaP.median());
        for (double fraction : new double[] {0.25, 0.10, 0.05, 0.01, 0.001}) {
            line(out, "%-8sΔp: %6.3f%%", percentLabel(fraction), 100 * deltaP.at(fraction));
        }
        line(out, "Minimum Δp: %6.3f%%", 100 * deltaP.min());
        line(out, "RMS Δp    : %6.3f ± %5.3f %%", 100 * rmsDeltaP.value(), 100 * rmsDeltaP.uncertainty());
        line(out, "Same top p: %6.3f ± %5.3f %%", 100 * sameTop.value(), 100 * sameTop.uncertainty());
        return out.toString();
    }

    /** "99.9%", " 5.0%": llama.cpp's right-aligned percentages. */
    private static String percentLabel(double fraction) {
        return String.format(Locale.ROOT, "%4.1f%%", 100 * fraction);
    }

    private static void line(StringBuilder out, String format, Object... args) {
        out.append(String.format(Locale.ROOT, format, args)).append('\n');
    }
}
