package io.panllm.runtime.eval;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The outcome of a perplexity run.
 *
 * @param perplexity        exp of the mean negative log-likelihood over every scored token
 * @param standardError     its uncertainty, computed as llama.cpp's "PPL = x +/- y"
 * @param chunks            chunks evaluated
 * @param contextSize       tokens per chunk
 * @param scoredTokens      tokens scored (chunks * (contextSize - 1 - contextSize/2))
 * @param runningPerplexity the perplexity after each chunk (what llama.cpp prints as [i]value)
 * @param nanos             wall time of the evaluation
 */
public record PerplexityResult(double perplexity, double standardError, int chunks, int contextSize,
                               long scoredTokens, double[] runningPerplexity, long nanos) {

    public double secondsPerChunk() {
        return chunks == 0 ? 0 : nanos / 1e9 / chunks;
    }

    /** A map of plain values (numbers, lists) for a JSON writer. */
    public Map<String, Object> toMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("perplexity", perplexity);
        map.put("standard_error", standardError);
        map.put("chunks", chunks);
        map.put("context_size", contextSize);
        map.put("scored_tokens", scoredTokens);
        map.put("running_perplexity", java.util.Arrays.stream(runningPerplexity).boxed().toList());
        map.put("seconds", nanos / 1e9);
        return map;
    }
}
