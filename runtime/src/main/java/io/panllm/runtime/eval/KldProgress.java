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
