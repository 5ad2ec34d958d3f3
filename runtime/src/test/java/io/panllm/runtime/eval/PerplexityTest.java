package io.panllm.runtime.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.panllm.runtime.testing.FakeModel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PerplexityTest {

    /**
     * Vocabulary of 4; after token t the model gives logit ln 3 to t and 0 to the others, so it
     * predicts a repeat with p = 3/6 = 1/2 and any other token with p = 1/6.
     */
    private static FakeModel repeatModel() {
        return new FakeModel(4, sequence -> {
            float[] logits = new float[4];
            logits[sequence[sequence.length - 1]] = (float) Math.log(3);
            return logits;
        });
    }

    @Test
    void uniformLogitsGiveThePerplexityOfTheVocabularySize() {
        int vocabSize = 1000;
        FakeModel model = new FakeModel(vocabSize, sequence -> new float[vocabSize]);
        int[] tokens = new int[3 * 16 + 5];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = (i * 37) % vocabSize;
        }
        PerplexityResult result = Perplexity.run(model, tokens, new PerplexityOptions(16, -1, true, 1),
                ProgressListener.NONE);
        assertThat(result.perplexity()).isCloseTo(vocabSize, within(1e-9));
        assertThat(result.standardError()).isZero();
        assertThat(result.chunks()).isEqualTo(3);
        assertThat(result.scoredTokens()).isEqualTo(3 * (16 - 1 - 8));
    }

    @Test
    void twoChunksByHand() {
        // n_ctx 4: first = 2, one scored position per chunk (position 2 predicts position 3).
        // chunk 0 = [0 1 1 1]: after 1 comes 1, p = 1/2.  chunk 1 = [2 3 3 0]: after 3 comes 0, p = 1/6.
        int[] tokens = {0, 1, 1, 1, 2, 3, 3, 0};
        List<String> progress = new ArrayList<>();
        PerplexityResult result = Perplexity.run(repeatModel(), tokens, new PerplexityOptions(4, -1, false, 0),
                (chunk, chunks, ppl) -> progress.add(ProgressListener.format(chunk, ppl) + "/" + chunks));

        double nll0 = Math.log(2);
        double nll1 = Math.log(6);
        assertThat(result.perplexity()).isCloseTo(Math.sqrt(12), within(1e-6));   // exp((ln 2 + ln 6) / 2)
        // llama.cpp: sqrt((mean(nll^2) - mean(nll)^2) / (count - 1)) * ppl = |nll1 - nll0| / 2 * ppl
        assertThat(result.standardError()).isCloseTo((nll1 - nll0) / 2 * Math.sqrt(12), within(1e-6));
        assertThat(result.runningPerplexity()).containsExactly(new double[] {2, Math.sqrt(12)}, within(1e-6));
        assertThat(progress).containsExactly("[1]2.0000,/2", "[2]3.4641,/2");
        assertThat(result.scoredTokens()).isEqualTo(2);
    }

    @Test
    void eachChunkStartsWithBosInAFreshCache() {
        FakeModel model = repeatModel();
        int[] tokens = {0, 1, 1, 1, 2, 3, 3, 0, 2};
        Perplexity.run(model, tokens, new PerplexityOptions(4, -1, true, 2), ProgressListener.NONE);
        assertThat(model.batches).containsExactly(new int[] {2, 1, 1, 1}, new int[] {2, 3, 3, 0});
        assertThat(model.batchPositions).containsExactly(0, 0);
        assertThat(tokens[0]).isZero();     // the caller's array is left alone
    }

    @Test
    void bosReplacementChangesWhatTheModelSees() {
        // The model's confidence depends on the first token of the sequence: BOS (3) -> uniform.
        FakeModel model = new FakeModel(4, sequence -> sequence[0] == 3 ? new float[4] : new float[] {9, 0, 0, 0});
        int[] tokens = {0, 0, 0, 0, 0, 0, 0, 0};
        PerplexityOptions withBos = new PerplexityOptions(4, -1, true, 3);
        PerplexityOptions withoutBos = new PerplexityOptions(4, -1, false, 3);
        assertThat(Perplexity.run(model, tokens, withBos, ProgressListener.NONE).perplexity())
                .isCloseTo(4, within(1e-9));
        assertThat(Perplexity.run(model, tokens, withoutBos, ProgressListener.NONE).perplexity())
                .isLessThan(1.001);
    }

    @Test
    void chunksLimitsTheEvaluation() {
        FakeModel model = repeatModel();
        int[] tokens = new int[40];
        PerplexityResult result = Perplexity.run(model, tokens, new PerplexityOptions(8, 2, false, 0),
                ProgressListener.NONE);
        assertThat(result.chunks()).isEqualTo(2);
        assertThat(model.batches).hasSize(2);
        // All zeros: always a repeat, p = 1/2 (vocabulary 4: 3 / (3 + 1 + 1 + 1)).
        assertThat(result.perplexity()).isCloseTo(2, within(1e-6));
    }

    @Test
    void textShorterThanTwoContextsIsRejected() {
        assertThatThrownBy(() -> Perplexity.run(repeatModel(), new int[15], new PerplexityOptions(8, -1, false, 0),
                ProgressListener.NONE))
                .isInstanceOf(NotEnoughTokensException.class)
                .hasMessageContaining("only 15 tokens")
                .hasMessageContaining("at least 16");
    }

    @Test
    void nanLogitsAreReportedNotAveraged() {
        FakeModel broken = new FakeModel(4, sequence -> new float[] {0, Float.NaN, 0, 0});
        assertThatThrownBy(() -> Perplexity.run(broken, new int[8], new PerplexityOptions(4, -1, false, 0),
                ProgressListener.NONE)).hasMessageContaining("NaN logits");
    }

    @Test
    void vocabularySizesThatAreNotAMultipleOfTheVectorLengthWork() {
        // 7 and 1003 leave scalar tails after the vector loops; the values are checked against exp(log).
        for (int vocabSize : new int[] {1, 7, 1003}) {
            FakeModel uniform = new FakeModel(vocabSize, sequence -> new float[vocabSize]);
            PerplexityResult result = Perplexity.run(uniform, new int[12], new PerplexityOptions(6, -1, false, 0),
                    ProgressListener.NONE);
            assertThat(result.perplexity()).isCloseTo(vocabSize, within(1e-9 * vocabSize));
        }
    }

    @Test
    void resultMapHoldsTheFigures() {
        PerplexityResult result = Perplexity.run(repeatModel(), new int[] {0, 1, 1, 1, 2, 3, 3, 0},
                new PerplexityOptions(4, -1, false, 0), ProgressListener.NONE);
        assertThat(result.toMap()).containsEntry("chunks", 2).containsEntry("context_size", 4)
                .containsKeys("perplexity", "standard_error", "running_perplexity");
    }
}
