package io.panllm.runtime.engine;

/** A prompt that does not fit in one slot's share of the context. */
public final class PromptTooLongException extends IllegalArgumentException {
    public PromptTooLongException(int promptTokens, int slotContext) {
        super("the prompt has " + promptTokens + " tokens; a slot holds " + slotContext
                + " (the server's -c divided by --parallel)");
    }
}
