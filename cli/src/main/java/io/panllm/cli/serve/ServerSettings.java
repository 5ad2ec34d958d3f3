package io.panllm.cli.serve;

import io.panllm.runtime.generate.SamplerConfig;
import java.time.Duration;

/**
 * What the HTTP layer is told at start.
 *
 * @param host           address to bind (127.0.0.1 unless told otherwise)
 * @param port           TCP port; 0 picks a free one
 * @param apiKey         when not null, every request but {@code /health} needs {@code Authorization: Bearer <key>}
 * @param modelName      the id {@code /v1/models} lists and answers carry
 * @param maxBodyBytes   largest request body accepted
 * @param maxTokens      largest {@code max_tokens} a request may ask for
 * @param defaults       sampling settings of a request that names none (the command's flags)
 * @param idleTimeout    how long a connection may stay silent (a long non-streamed answer is silent)
 */
public record ServerSettings(String host, int port, String apiKey, String modelName, int maxBodyBytes, int maxTokens,
                             SamplerConfig defaults, Duration idleTimeout) {
}
