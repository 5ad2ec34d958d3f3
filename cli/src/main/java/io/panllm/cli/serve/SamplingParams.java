package io.panllm.cli.serve;

import com.fasterxml.jackson.databind.JsonNode;
import io.panllm.runtime.generate.SamplerConfig;
import java.util.OptionalLong;

/**
 * A request's sampling settings: OpenAI's fields (temperature, top_p, seed, presence_penalty,
 * frequency_penalty) and llama-server's extensions (top_k, min_p, repeat_penalty, repeat_last_n),
 * each falling back to the server's defaults.
 */
final class SamplingParams {
    private SamplingParams() {
    }

    static SamplerConfig parse(JsonNode body, SamplerConfig defaults) {
        float temperature = (float) JsonFields.number(body, "temperature", defaults.temperature(), 0, 2);
        float topP = (float) JsonFields.number(body, "top_p", defaults.topP(), Double.MIN_VALUE, 1);
        int topK = (int) JsonFields.integer(body, "top_k", defaults.topK(), 0, Integer.MAX_VALUE);
        float minP = (float) JsonFields.number(body, "min_p", defaults.minP(), 0, 1);
        float presence = (float) JsonFields.number(body, "presence_penalty", defaults.presencePenalty(), -2, 2);
        float frequency = (float) JsonFields.number(body, "frequency_penalty", defaults.frequencyPenalty(), -2, 2);
        float repeat = (float) JsonFields.number(body, "repeat_penalty", defaults.repeatPenalty(), Double.MIN_VALUE, 10);
        int lastN = (int) JsonFields.integer(body, "repeat_last_n", defaults.repeatLastN(), 0, 1 << 20);
        OptionalLong seed = JsonFields.present(body, "seed")
                ? OptionalLong.of(JsonFields.integer(body, "seed", 0, Long.MIN_VALUE, Long.MAX_VALUE))
                : defaults.seed();
        return new SamplerConfig(temperature, topK, topP, minP, repeat, lastN, frequency, presence, seed);
    }
}
