package io.panllm.runtime.engine;

/** Why a request's generation ended, in OpenAI's terms where they have one. */
public enum FinishReason {
    /** A stop token or a stop string ended it. */
    STOP,
    /** max_tokens was reached, or the slot's context is full. */
    LENGTH,
    /** The client cancelled (or went away). */
    CANCELLED
}
