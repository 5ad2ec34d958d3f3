package io.panllm.runtime.engine;

/**
 * How the engine shares the model between requests.
 *
 * @param slots         sequences decoded together ({@code --parallel}); each has its own KV cache
 * @param contextSize   positions of KV cache in all, split evenly between the slots (llama-server's
 *                      {@code -c} with {@code -np})
 * @param prefillChunk  the most prompt tokens evaluated between two decode steps: bounds how long
 *                      a new prompt delays the tokens of running streams
 * @param queueCapacity requests that may wait for a slot; more are refused
 */
public record EngineConfig(int slots, int contextSize, int prefillChunk, int queueCapacity) {

    public EngineConfig {
        if (slots < 1) {
            throw new IllegalArgumentException("the number of slots (--parallel) must be >= 1, got " + slots);
        }
        if (contextSize / slots < 2) {
            throw new IllegalArgumentException("a context of " + contextSize + " leaves " + contextSize / slots
                    + " positions per slot for " + slots + " slots (raise -c or lower --parallel)");
        }
        if (prefillChunk < 1) {
            throw new IllegalArgumentException("the prefill chunk must be >= 1 token, got " + prefillChunk);
        }
        if (queueCapacity < 0) {
            throw new IllegalArgumentException("the queue capacity must be >= 0, got " + queueCapacity);
        }
    }

    /** Positions of KV cache each slot gets. */
    public int slotContext() {
        return contextSize / slots;
    }
}
