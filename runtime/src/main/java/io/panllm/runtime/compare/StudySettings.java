package io.panllm.runtime.compare;

import io.panllm.runtime.LoadedModel;
import io.panllm.runtime.bench.Benchmark;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How every format of a comparison is measured.
 *
 * @param input       the model to convert (HF checkpoint, GGUF or llama2.c checkpoint)
 * @param text        the text perplexity and KL divergence are measured on
 * @param contextSize tokens per perplexity chunk (llama.cpp's -c)
 * @param chunks      the most chunks to evaluate, negative for all
 * @param bench       the speed test (pp and tg tokens, repetitions)
 * @param device      where the models run
 * @param threads     CPU threads, 0 for all cores
 */
public record StudySettings(Path input, Path text, int contextSize, int chunks, Benchmark.Options bench,
                            LoadedModel.Device device, int threads) {

    public StudySettings {
        if (contextSize < 3) {
            throw new IllegalArgumentException("-c must be at least 3, got " + contextSize);
        }
        if (chunks == 0) {
            throw new IllegalArgumentException("--chunks must be positive");
        }
    }

    /**
     * What a cached result of {@code format} depends on: the input and text files (by path, size
     * and modification time), every setting, and the base the KL divergence was measured against.
     */
    Map<String, Object> cacheKey(StudyFormat format, String baseLabel) {
        Map<String, Object> key = new LinkedHashMap<>();
        key.put("input", FileFingerprint.of(input));
        key.put("text", FileFingerprint.of(text));
        key.put("type", format.label());
        key.put("kld_base", baseLabel);
        key.put("context_size", contextSize);
        key.put("chunks", chunks);
        key.put("bench_prompt_tokens", bench.promptTokens());
        key.put("bench_gen_tokens", bench.genTokens());
        key.put("bench_repetitions", bench.repetitions());
        key.put("bench_warmups", bench.warmups());
        key.put("device", device.name().toLowerCase(java.util.Locale.ROOT));
        key.put("threads", threads);
        return key;
    }
}
