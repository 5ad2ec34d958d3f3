package io.panllm.runtime.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.panllm.gguf.GgufFile;
import io.panllm.runtime.Session;
import io.panllm.runtime.cpu.CpuBackend;
import io.panllm.runtime.model.LlamaModel;
import io.panllm.runtime.tokenizer.Tokenizer;
import io.panllm.runtime.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Perplexity over a real GGUF (llama.cpp's tiny random Llama, full 32k vocabulary) and real text,
 * checked against a direct computation: each chunk fed one token at a time into a fresh session,
 * the log-softmax of its second half summed in double.
 */
class PerplexityOnGgufTest {

    private static Path data(String relative) {
        return Path.of(System.getProperty("panllm.data", "../shared/data")).resolve(relative);
    }

    @Test
    void matchesTokenByTokenEvaluation() throws IOException {
        Path modelFile = data("gguf/llama-2-tiny-random.gguf");
        String text = new String(Arrays.copyOf(Files.readAllBytes(data("wikitext-2/wiki.test.raw")), 4000),
                StandardCharsets.UTF_8);
        int contextSize = 48;
        try (GgufFile gguf = GgufFile.open(modelFile); CpuBackend backend = new CpuBackend(1);
             LlamaModel model = LlamaModel.load(gguf, backend)) {
            Tokenizer tokenizer = Tokenizers.fromGguf(gguf.metadata());
            boolean addBos = tokenizer.vocabulary().addBos();
            int[] tokens = tokenizer.encode(text, addBos, false);
            PerplexityOptions options = new PerplexityOptions(contextSize, 3, addBos, tokenizer.bos());

            PerplexityResult result = Perplexity.run(model, tokens, options, ProgressListener.NONE);

            double nll = 0;
            int count = 0;
            for (int chunk = 0; chunk < 3; chunk++) {
                try (Session session = model.newSession(contextSize)) {
                    for (int j = 0; j < contextSize - 1; j++) {
                        int token = j == 0 && addBos ? tokenizer.bos() : tokens[chunk * contextSize + j];
                        float[] logits = session.forward(new int[] {token});
                        if (j >= contextSize / 2) {
                            nll -= logSoftmax(logits, tokens[chunk * contextSize + j + 1]);
                            count++;
                        }
                    }
                }
            }
            assertThat(addBos).isTrue();
            assertThat(result.scoredTokens()).isEqualTo(count);
            assertThat(result.perplexity()).isCloseTo(Math.exp(nll / count), within(1e-4 * Math.exp(nll / count)));
            assertThat(result.perplexity()).isGreaterThan(1);
        }
    }

    private static double logSoftmax(float[] logits, int token) {
        double max = Double.NEGATIVE_INFINITY;
        for (float logit : logits) {
            max = Math.max(max, logit);
        }
        double sum = 0;
        for (float logit : logits) {
            sum += Math.exp(logit - max);
        }
        return logits[token] - max - Math.log(sum);
    }
}
