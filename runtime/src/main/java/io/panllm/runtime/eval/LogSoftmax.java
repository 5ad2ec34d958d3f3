package io.panllm.runtime.eval;

/**
 * log softmax pieces computed as llama.cpp's perplexity tool does: exponentials in float, their
 * sum in double.
 */
final class LogSoftmax {

    private LogSoftmax() {
    }

    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Sum of exp(logit - max) over the vocabulary. */
    static double sumExp(float[] logits, float max) {
        double sum = 0;
        for (float logit : logits) {
            sum += (float) Math.exp(logit - max);
        }
        return sum;
    }

    /** -log softmax(logits)[token], the negative log-likelihood of {@code token}. */
    static double negativeLogLikelihood(float[] logits, int token) {
        float max = logits[argmax(logits)];
        return -((logits[token] - max) - Math.log(sumExp(logits, max)));
    }
}
