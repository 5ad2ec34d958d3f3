package io.panllm.runtime.generate;

import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Limits of one generation.
 *
 * @param maxTokens  the most tokens to sample; negative means until a stop token or the context is full
 * @param stopTokens tokens that end generation (end of turn / end of text)
 */
public record GenerationOptions(int maxTokens, Set<Integer> stopTokens) {

    public GenerationOptions {
        stopTokens = Set.copyOf(stopTokens);
    }

    public static GenerationOptions of(int maxTokens, int... stopTokens) {
        return new GenerationOptions(maxTokens, Arrays.stream(stopTokens).boxed().collect(Collectors.toSet()));
    }

    boolean isStop(int token) {
        return stopTokens.contains(token);
    }

    boolean reachedLimit(int generated) {
        return maxTokens >= 0 && generated >= maxTokens;
    }
}
