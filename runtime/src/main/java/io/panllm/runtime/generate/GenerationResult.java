package io.panllm.runtime.generate;

import java.util.OptionalInt;

/**
 * The outcome of one {@link Generator#generate} call.
 *
 * <p>The session holds the prompt and every sampled token but the last: the last one is sampled
 * from the final logits and not evaluated (that would cost a forward pass whose logits nobody
 * uses). It is {@link #pendingToken()}; a chat that continues the conversation feeds it first.
 *
 * @param tokens          every sampled token in order, a final stop token included
 * @param text            the text of those tokens (stop tokens excluded)
 * @param reason          why generation ended
 * @param promptTokens    number of prompt tokens evaluated
 * @param promptNanos     time spent evaluating the prompt
 * @param generationNanos time from the end of the prompt to the end of generation (sampling and
 *                        evaluating the generated tokens)
 */
public record GenerationResult(
        int[] tokens, String text, StopReason reason, int promptTokens, long promptNanos, long generationNanos) {

    /** The last sampled token, which the session has not evaluated; empty if none was sampled. */
    public OptionalInt pendingToken() {
        return tokens.length == 0 ? OptionalInt.empty() : OptionalInt.of(tokens[tokens.length - 1]);
    }

    public int generatedTokens() {
        return tokens.length;
    }

    public double promptMillis() {
        return promptNanos / 1e6;
    }

    public double generationMillis() {
        return generationNanos / 1e6;
    }

    public double promptTokensPerSecond() {
        return perSecond(promptTokens, promptNanos);
    }

    /** Generated tokens per second (0 when nothing was generated). */
    public double tokensPerSecond() {
        return perSecond(tokens.length, generationNanos);
    }

    private static double perSecond(int count, long nanos) {
        return nanos <= 0 ? 0 : count * 1e9 / nanos;
    }
}
