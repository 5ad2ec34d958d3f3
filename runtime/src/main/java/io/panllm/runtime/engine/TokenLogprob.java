package io.panllm.runtime.engine;

import java.util.List;

/**
 * The log-probability the model gave a token, with the most likely alternatives at that position.
 *
 * @param token   the token id
 * @param logprob its natural-log probability under the model's raw logits (before penalties,
 *                temperature and filters, as OpenAI reports it); NaN for the first prompt token,
 *                which nothing predicts
 * @param top     the most likely tokens at that position, best first (empty when not asked for)
 */
public record TokenLogprob(int token, float logprob, List<Alternative> top) {

    public TokenLogprob {
        top = List.copyOf(top);
    }

    /** One of the most likely tokens at a position. */
    public record Alternative(int token, float logprob) {
    }
}
