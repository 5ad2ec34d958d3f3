package io.panllm.runtime.engine;

/**
 * A snapshot of the engine for monitoring ({@code /metrics}).
 *
 * @param requests              requests admitted into a slot since start
 * @param promptTokens          prompt tokens evaluated since start
 * @param generatedTokens       tokens generated since start
 * @param queued                requests waiting for a slot
 * @param active                requests in a slot (prefilling or decoding)
 * @param slots                 slots in all
 * @param lastBatchSize         sequences in the last decode step
 * @param kvUsed                KV-cache positions in use over all slots
 * @param kvCapacity            KV-cache positions over all slots
 * @param decodeTokensPerSecond tokens per second of the last decode step (batch size / its duration)
 */
public record EngineStats(long requests, long promptTokens, long generatedTokens, int queued, int active,
                          int slots, int lastBatchSize, long kvUsed, long kvCapacity, double decodeTokensPerSecond) {
}
