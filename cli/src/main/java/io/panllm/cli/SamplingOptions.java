package io.panllm.cli;

import io.panllm.runtime.generate.SamplerConfig;
import java.util.OptionalLong;
import picocli.CommandLine.Option;

/** Sampling flags, with llama.cpp's names and defaults. */
final class SamplingOptions {
    @Option(names = "--temp", paramLabel = "T", defaultValue = "0.8", description = "temperature; 0 = greedy (default: ${DEFAULT-VALUE})")
    @Range(min = 0)
    float temperature;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "40", description = "top-k, 0 = off (default: ${DEFAULT-VALUE})")
    @Range(min = 0)
    int topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "0.95", description = "top-p, 1 = off (default: ${DEFAULT-VALUE})")
    @Range(min = 0, minExclusive = true, max = 1)
    float topP;

    @Option(names = "--min-p", paramLabel = "P", defaultValue = "0.05", description = "min-p, 0 = off (default: ${DEFAULT-VALUE})")
    @Range(min = 0, max = 1)
    float minP;

    @Option(names = "--repeat-penalty", paramLabel = "X", defaultValue = "1.0", description = "repetition penalty, 1 = off (default: ${DEFAULT-VALUE})")
    @Range(min = 0, minExclusive = true)
    float repeatPenalty;

    @Option(names = "--repeat-last-n", paramLabel = "N", defaultValue = "64", description = "tokens the penalty looks back on (default: ${DEFAULT-VALUE})")
    @Range(min = 0)
    int repeatLastN;

    @Option(names = {"-s", "--seed"}, paramLabel = "N", description = "random seed (default: random); same seed, same text")
    Long seed;

    SamplerConfig config() {
        return new SamplerConfig(temperature, topK, topP, minP, repeatPenalty, repeatLastN, 0f, 0f,
                seed == null ? OptionalLong.empty() : OptionalLong.of(seed));
    }
}
