package io.panllm.cli.serve;

import com.fasterxml.jackson.databind.JsonNode;
import io.panllm.runtime.generate.SamplerConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The fields both endpoints share, validated.
 *
 * @param prompts      one prompt per choice (the completions endpoint takes several)
 * @param promptTexts  each prompt's text, for {@code echo}
 * @param logprobs     -1 for none, else how many alternatives to list per token
 */
record ParsedRequest(List<int[]> prompts, List<String> promptTexts, SamplerConfig sampler, int maxTokens,
                     Set<Integer> stopTokens, List<String> stopStrings, int logprobs, boolean echo, boolean stream,
                     boolean includeUsage) {

    static final int MAX_STOP_STRINGS = 16;

    /** The fields besides the prompt. */
    static ParsedRequest parse(JsonNode body, List<int[]> prompts, List<String> promptTexts, Set<Integer> stopTokens,
                               int logprobs, boolean echo, ServerSettings settings) {
        long n = JsonFields.integer(body, "n", 1, 1, 1);
        assert n == 1;
        int maxTokens = (int) JsonFields.integer(body, "max_completion_tokens", -1, 0, settings.maxTokens());
        maxTokens = (int) JsonFields.integer(body, "max_tokens", maxTokens, 0, settings.maxTokens());
        boolean stream = JsonFields.bool(body, "stream", false);
        boolean includeUsage = false;
        if (JsonFields.present(body, "stream_options")) {
            JsonNode options = body.get("stream_options");
            if (!options.isObject()) {
                throw ApiException.invalid("'stream_options' must be an object", "stream_options");
            }
            includeUsage = JsonFields.bool(options, "include_usage", false);
        }
        if (stream && prompts.size() > 1) {
            throw ApiException.invalid("a streamed request takes one prompt", "prompt");
        }
        return new ParsedRequest(prompts, promptTexts, SamplingParams.parse(body, settings.defaults()), maxTokens,
                stopTokens, stopStrings(body), logprobs, echo, stream, includeUsage);
    }

    private static List<String> stopStrings(JsonNode body) {
        if (!JsonFields.present(body, "stop")) {
            return List.of();
        }
        JsonNode stop = body.get("stop");
        if (stop.isTextual()) {
            return List.of(stop.textValue());
        }
        if (!stop.isArray() || stop.size() > MAX_STOP_STRINGS) {
            throw ApiException.invalid("'stop' must be a string or an array of at most " + MAX_STOP_STRINGS + " strings", "stop");
        }
        List<String> stops = new ArrayList<>();
        for (JsonNode item : stop) {
            if (!item.isTextual()) {
                throw ApiException.invalid("'stop' must be a string or an array of strings", "stop");
            }
            stops.add(item.textValue());
        }
        return stops;
    }
}
