package io.panllm.runtime.compare;

import java.util.Map;

/**
 * What was measured for one format. Figures that were not measured (a step failed, the format
 * does not run, the weights are random) are null; {@code error} then says why.
 *
 * @param format              the format's label ("q4_0")
 * @param status              how far the measurement got
 * @param error               the error or reason for a non-measured figure, else null
 * @param file                the converted GGUF (file name in the work folder)
 * @param fileBytes           its size
 * @param parameters          weights in the model
 * @param bitsPerWeight       8 * tensor bytes / parameters, over every tensor
 * @param linearBitsPerWeight the same over the layers' linear projections (attention and
 *                            feed-forward matrices; not the embedding, the output head or norms)
 * @param parametersPerType   parameters stored in each tensor type (fallbacks show here)
 * @param description         the loaded model's description (backend, threads)
 * @param randomWeights       true for {@code convert --random-init} models: accuracy is meaningless
 * @param perplexity          PPL on the text, as {@code panllm perplexity} computes it
 * @param perplexityError     its standard error
 * @param meanKld             mean KL(base || this) per token; 0 for the base itself
 * @param meanKldError        its standard error
 * @param sameTop             fraction of positions where this and the base rank the same token first
 * @param sameTopError        its standard error
 * @param promptTokensPerSecond    pp: mean tok/s of one batch of prompt tokens
 * @param promptTokensPerSecondSd  its standard deviation over repetitions
 * @param genTokensPerSecond       tg: mean tok/s generating one token at a time
 * @param genTokensPerSecondSd     its standard deviation
 * @param peakRssBytes        peak resident memory of the process while this format ran (-1: unknown)
 * @param peakGpuBytes        on the GPU: peak device memory panllm held while it ran (weights, KV cache,
 *                            activations; not the CUDA context); null on the CPU
 * @param seconds             wall time of the whole measurement
 */
public record FormatResult(String format, Status status, String error, String file, Long fileBytes, Long parameters,
                           Double bitsPerWeight, Double linearBitsPerWeight, Map<String, Long> parametersPerType,
                           String description, boolean randomWeights,
                           Double perplexity, Double perplexityError,
                           Double meanKld, Double meanKldError, Double sameTop, Double sameTopError,
                           Double promptTokensPerSecond, Double promptTokensPerSecondSd,
                           Double genTokensPerSecond, Double genTokensPerSecondSd,
                           long peakRssBytes, Long peakGpuBytes, double seconds) {

    /** How far the measurement of a format got. */
    public enum Status {
        /** Every figure was measured (accuracy may be skipped for random weights). */
        MEASURED,
        /** A step failed; the figures before it are kept and {@code error} says what happened. */
        FAILED
    }

}
