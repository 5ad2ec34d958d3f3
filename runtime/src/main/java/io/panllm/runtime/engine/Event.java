package io.panllm.runtime.engine;

import java.util.List;

/** What the engine reports about one request, in order; {@link Finished} or {@link Failed} comes last. */
public sealed interface Event {

    /**
     * The prompt's tokens with their log-probabilities (asked for with {@code echo}); comes before
     * any token.
     */
    record PromptLogprobs(List<TokenLogprob> tokens) implements Event {
        public PromptLogprobs {
            tokens = List.copyOf(tokens);
        }
    }

    /**
     * A generated token.
     *
     * @param text    the text released with it: empty while a stop string might be starting or a
     *                UTF-8 sequence is incomplete, then everything held back so far
     * @param logprob its log-probability, or null when not asked for
     */
    record Token(int token, String text, TokenLogprob logprob) implements Event {
    }

    /**
     * The end of generation.
     *
     * @param trailingText     text still held back at the end (normally empty); part of the answer
     * @param promptTokens     tokens of the prompt
     * @param completionTokens tokens generated (a final stop token not counted)
     */
    record Finished(FinishReason reason, String trailingText, int promptTokens, int completionTokens)
            implements Event {
    }

    /** The request could not be completed (the backend failed, or the engine is shutting down). */
    record Failed(String message, boolean shuttingDown) implements Event {
    }
}
