package io.panllm.runtime.eval;

/** The evaluation text is too short for the requested context size. */
public class NotEnoughTokensException extends RuntimeException {
    public NotEnoughTokensException(int tokens, int contextSize) {
        super("the text tokenizes to only " + tokens + " tokens; perplexity with a context of " + contextSize
                + " needs at least " + 2L * contextSize + " (use a longer text or a smaller -c)");
    }
}
