package io.panllm.runtime.engine;

import java.util.ArrayList;
import java.util.List;

/** Log-probabilities of tokens from a vector of raw logits (log softmax), for OpenAI's {@code logprobs}. */
final class Logprobs {
    private Logprobs() {
    }

    /** The token's log-probability and the {@code top} most likely tokens' (best first). */
    static TokenLogprob of(float[] logits, int token, int top) {
        float max = Float.NEGATIVE_INFINITY;
        for (float logit : logits) {
            max = Math.max(max, logit);
        }
        double sum = 0;
        for (float logit : logits) {
            sum += Math.exp(logit - max);
        }
        float logSum = (float) (max + Math.log(sum));
        return new TokenLogprob(token, logits[token] - logSum, best(logits, top, logSum));
    }

    /** The {@code n} largest logits as log-probabilities, by insertion into a short sorted list (n is at most 20). */
    private static List<TokenLogprob.Alternative> best(float[] logits, int n, float logSum) {
        int[] ids = new int[Math.min(n, logits.length)];
        int size = 0;
        for (int id = 0; id < logits.length && ids.length > 0; id++) {
            if (size == ids.length && !(logits[id] > logits[ids[size - 1]])) {
                continue;
            }
            int at = size == ids.length ? size - 1 : size++;
            while (at > 0 && logits[ids[at - 1]] < logits[id]) {
                ids[at] = ids[at - 1];
                at--;
            }
            ids[at] = id;
        }
        List<TokenLogprob.Alternative> out = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            out.add(new TokenLogprob.Alternative(ids[i], logits[ids[i]] - logSum));
        }
        return out;
    }
}
