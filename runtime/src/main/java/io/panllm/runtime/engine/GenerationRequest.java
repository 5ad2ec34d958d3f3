package io.panllm.runtime.engine;

import io.panllm.runtime.generate.SamplerConfig;
import java.util.List;
import java.util.Set;

/**
 * One request to the engine, already tokenized.
 *
 * @param prompt          the tokens to continue (at least one)
 * @param sampler         how to choose tokens (each request gets its own sampler and seed)
 * @param maxTokens       the most tokens to generate: 0 only evaluates the prompt (scoring with
 *                        {@code echoLogprobs}); negative: until a stop or a full context
 * @param stopTokens      tokens that end generation (end of text, end of turn)
 * @param stopStrings     texts that end generation; the answer ends just before the first one,
 *                        wherever token boundaries fall
 * @param logprobs        -1: no log-probabilities; n >= 0: each generated token's, with its n most
 *                        likely alternatives
 * @param echoLogprobs    also report the prompt tokens' log-probabilities (OpenAI's {@code echo}
 *                        with {@code logprobs}: how lm-evaluation-harness scores choices)
 */
public record GenerationRequest(int[] prompt, SamplerConfig sampler, int maxTokens, Set<Integer> stopTokens,
                                List<String> stopStrings, int logprobs, boolean echoLogprobs) {

    public GenerationRequest {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt must hold at least one token");
        }
        prompt = prompt.clone();
        stopTokens = Set.copyOf(stopTokens);
        stopStrings = stopStrings.stream().filter(s -> !s.isEmpty()).toList();
    }

    /** How many positions the request needs at least: its prompt, plus one token if it generates. */
    int minimumContext() {
        return prompt.length + (maxTokens == 0 ? 0 : 1);
    }
}
