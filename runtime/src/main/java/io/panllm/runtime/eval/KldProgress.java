package io.panllm.runtime.eval;

/**
 * The running figures llama.cpp prints after each chunk of a KL-divergence run.
 *
 * @param chunk      chunks done (1-based)
 * @param chunks     chunks that will be compared
 * @param perplexity PPL of the model under test so far
 * @param lnPplRatio ln(PPL(Q)/PPL(base)) so far
 * @param kld        mean KL divergence so far
 * @param rmsDeltaP  RMS of p_model - p_base of the correct token so far
 * @param sameTop    fraction of positions with the same most likely token so far
 */
public record KldProgress(int chunk, int chunks, Estimate perplexity, Estimate lnPplRatio, Estimate kld,
                          Estimate rmsDeltaP, Estimate sameTop) {

    /** The column titles llama.cpp prints above the per-chunk lines. */
    public static final String HEADER =
            "chunk             PPL               ln(PPL(Q)/PPL(base))          KL Divergence              Δp RMS            Same top p";

    /** This chunk's line, laid out as llama.cpp's. */
    public String format() {
        return String.format(java.util.Locale.ROOT,
                "%4d    %9.4f ± %9.4f    %10.5f ± %10.5f    %10.5f ± %10.5f    %6.3f ± %6.3f %%    %6.3f ± %6.3f %%",
                chunk, perplexity.value(), perplexity.uncertainty(), lnPplRatio.value(), lnPplRatio.uncertainty(),
                kld.value(), kld.uncertainty(), 100 * rmsDeltaP.value(), 100 * rmsDeltaP.uncertainty(),
                100 * sameTop.value(), 100 * sameTop.uncertainty());
    }

    /**
     * Told after every chunk of a comparison (on the evaluating thread). Throwing
     * {@link java.util.concurrent.CancellationException} stops the comparison.
     */
    @FunctionalInterface
    public interface Listener {
        void onChunk(KldProgress progress);

        Listener NONE = progress -> {
        };
    }
}
