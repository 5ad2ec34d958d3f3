package io.panllm.cli.serve;

import io.panllm.runtime.engine.EngineStats;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/** {@code /metrics}: the engine's figures and the server's request counts in Prometheus' text format. */
final class Metrics {
    final AtomicLong httpRequests = new AtomicLong();
    final AtomicLong rejected = new AtomicLong();
    final AtomicLong errors = new AtomicLong();

    String render(EngineStats s) {
        StringBuilder out = new StringBuilder();
        counter(out, "panllm_http_requests_total", "HTTP requests received", httpRequests.get());
        counter(out, "panllm_requests_rejected_total", "requests refused with 429/503 (queue full, shutting down)", rejected.get());
        counter(out, "panllm_request_errors_total", "requests answered with a 4xx/5xx error", errors.get());
        counter(out, "panllm_requests_total", "generation requests that got a slot", s.requests());
        counter(out, "panllm_prompt_tokens_total", "prompt tokens evaluated", s.promptTokens());
        counter(out, "panllm_generated_tokens_total", "tokens generated", s.generatedTokens());
        gauge(out, "panllm_queue_length", "requests waiting for a slot", s.queued());
        gauge(out, "panllm_active_sequences", "requests in a slot", s.active());
        gauge(out, "panllm_slots", "slots (--parallel)", s.slots());
        gauge(out, "panllm_batch_size", "sequences in the last decode step", s.lastBatchSize());
        gauge(out, "panllm_kv_cache_used_positions", "KV-cache positions in use", s.kvUsed());
        gauge(out, "panllm_kv_cache_capacity_positions", "KV-cache positions in all", s.kvCapacity());
        gauge(out, "panllm_kv_cache_usage_ratio", "KV-cache use (0..1)", s.kvCapacity() == 0 ? 0 : (double) s.kvUsed() / s.kvCapacity());
        gauge(out, "panllm_decode_tokens_per_second", "tokens per second of the last decode step", s.decodeTokensPerSecond());
        return out.toString();
    }

    private static void counter(StringBuilder out, String name, String help, long value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" counter\n");
        out.append(name).append(' ').append(value).append('\n');
    }

    private static void gauge(StringBuilder out, String name, String help, double value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" gauge\n");
        out.append(name).append(' ').append(String.format(Locale.ROOT, "%.6g", value)).append('\n');
    }
}
