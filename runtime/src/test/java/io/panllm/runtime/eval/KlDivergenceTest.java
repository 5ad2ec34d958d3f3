package io.panllm.runtime.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.panllm.runtime.testing.FakeModel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KlDivergenceTest {

    @TempDir
    Path directory;

    /** A model whose logits are a pseudo-random function of the last two tokens. */
    private static FakeModel randomModel(int vocabSize, long seed, float noise) {
        return new FakeModel(vocabSize, sequence -> {
            int last = sequence[sequence.length - 1];
            int before = sequence.length > 1 ? sequence[sequence.length - 2] : 0;
            Random base = new Random(last * 7919L + before);
            Random perturbation = new Random(seed * 104729L + last * 31L + before);
            float[] logits = new float[vocabSize];
            for (int i = 0; i < vocabSize; i++) {
                logits[i] = (float) (base.nextGaussian() * 2 + noise * perturbation.nextGaussian());
            }
            return logits;
        });
    }

    private static int[] randomTokens(int count, int vocabSize, long seed) {
        Random random = new Random(seed);
        int[] tokens = new int[count];
        for (int i = 0; i < count; i++) {
            tokens[i] = random.nextInt(vocabSize);
        }
        return tokens;
    }

    @Test
    void theSameModelHasNoDivergenceAndTheSameTopToken() throws IOException {
        int vocabSize = 300;
        FakeModel model = randomModel(vocabSize, 1, 0);
        int[] tokens = randomTokens(5 * 64, vocabSize, 2);
        Path base = directory.resolve("base.kld");
        PerplexityOptions options = new PerplexityOptions(64, -1, true, 1);
        PerplexityResult basePpl = KlDivergence.writeBase(model, tokens, options, base, ProgressListener.NONE);
        PerplexityResult plainPpl = Perplexity.run(model, tokens, options, ProgressListener.NONE);
        assertThat(basePpl.perplexity()).isCloseTo(plainPpl.perplexity(), within(1e-4 * plainPpl.perplexity()));

        List<KldProgress> progress = new ArrayList<>();
        KldResult result = KlDivergence.compare(model, base, new KldOptions(-1, true, 1), progress::add);
        assertThat(result.chunks()).isEqualTo(5);
        assertThat(result.tokens()).isEqualTo(5 * 31);
        // Not exactly 0: the base is stored with uint16 steps of 16/65535 nats, and the
        // dequantized base probabilities no longer sum to exactly 1 (first-order error ~1e-5).
        assertThat(result.meanKld().value()).isCloseTo(0, within(2e-5));
        assertThat(result.kld().max()).isLessThan(1e-4);
        assertThat(result.kld().min()).isGreaterThan(-1e-4);
        assertThat(result.sameTop().value()).isEqualTo(1.0);
        assertThat(result.perplexity().value()).isCloseTo(result.basePerplexity().value(),
                within(1e-5 * result.perplexity().value()));
        assertThat(result.lnPplRatio().value()).isCloseTo(0, within(1e-4));
        assertThat(result.pplRatio().value()).isCloseTo(1, within(1e-4));
        assertThat(result.meanDeltaP().value()).isCloseTo(0, within(1e-4));
        assertThat(result.deltaP().max()).isLessThan(1e-3);
        assertThat(result.perplexity().value()).isCloseTo(plainPpl.perplexity(), within(1e-4 * plainPpl.perplexity()));
        assertThat(progress).hasSize(5);
        assertThat(progress.getLast().chunk()).isEqualTo(5);
    }

    @Test
    void aPerturbedModelDivergesAndTheFiguresAreConsistent() throws IOException {
        int vocabSize = 200;
        int[] tokens = randomTokens(4 * 64, vocabSize, 3);
        Path base = directory.resolve("base.kld");
        PerplexityOptions options = new PerplexityOptions(64, -1, false, 0);
        KlDivergence.writeBase(randomModel(vocabSize, 1, 0), tokens, options, base, ProgressListener.NONE);
        FakeModel quantized = randomModel(vocabSize, 5, 0.5f);
        KldResult result = KlDivergence.compare(quantized, base, new KldOptions(-1, false, 0), KldProgress.Listener.NONE);

        assertThat(result.meanKld().value()).isBetween(0.01, 1.0);
        assertThat(result.meanKld().uncertainty()).isPositive();
        assertThat(result.kld().min()).isGreaterThanOrEqualTo(-1e-6);
        assertThat(result.kld().at(0.01)).isLessThanOrEqualTo(result.kld().median());
        assertThat(result.kld().median()).isLessThanOrEqualTo(result.kld().at(0.99));
        assertThat(result.kld().at(0.999)).isLessThanOrEqualTo(result.kld().max());
        assertThat(result.sameTop().value()).isBetween(0.3, 0.999);
        assertThat(result.pplRatio().value()).isCloseTo(
                result.perplexity().value() / result.basePerplexity().value(), within(1e-9));
        assertThat(result.perplexity().value()).isCloseTo(
                Perplexity.run(quantized, tokens, options, ProgressListener.NONE).perplexity(), within(1e-3));
        assertThat(result.deltaP().min()).isLessThan(0);
        assertThat(result.deltaP().max()).isGreaterThan(0);
        assertThat(result.toMap()).containsKeys("kld_mean", "kld", "delta_p", "same_top_p", "ppl", "ppl_base",
                "ln_ppl_ratio");
        @SuppressWarnings("unchecked")
        var kldMap = (java.util.Map<String, Object>) result.toMap().get("kld");
        assertThat(kldMap).containsKeys("min", "p0.1", "p1", "p5", "p10", "median", "p90", "p99", "p99.9", "max");
    }

    @Test
    void klDivergenceByHand() throws IOException {
        // Base: p = (1/4, 3/4) everywhere; model under test: (1/2, 1/2). Every token is 1.
        // KL(base || q) = 1/4 ln(1/2) + 3/4 ln(3/2); PPL(base) = 4/3, PPL(q) = 2;
        // Δp = 1/2 - 3/4; the top tokens differ (base: 1, q: 0, the first of two equal logits).
        FakeModel baseModel = FakeModel.constant(0f, (float) Math.log(3));
        FakeModel uniform = FakeModel.constant(0f, 0f);
        int[] tokens = {1, 1, 1, 1, 1, 1, 1, 1};
        Path base = directory.resolve("hand.kld");
        KlDivergence.writeBase(baseModel, tokens, new PerplexityOptions(4, -1, false, 0), base,
                ProgressListener.NONE);
        KldResult result = KlDivergence.compare(uniform, base, new KldOptions(-1, false, 0), KldProgress.Listener.NONE);

        double expectedKld = 0.25 * Math.log(0.5) + 0.75 * Math.log(1.5);
        assertThat(result.tokens()).isEqualTo(2);
        assertThat(result.meanKld().value()).isCloseTo(expectedKld, within(1e-5));
        assertThat(result.kld().max()).isCloseTo(expectedKld, within(1e-5));
        assertThat(result.basePerplexity().value()).isCloseTo(4.0 / 3, within(1e-5));
        assertThat(result.perplexity().value()).isCloseTo(2, within(1e-6));
        assertThat(result.lnPplRatio().value()).isCloseTo(Math.log(1.5), within(1e-5));
        assertThat(result.meanDeltaP().value()).isCloseTo(-0.25, within(1e-5));
        assertThat(result.deltaP().median()).isCloseTo(-0.25, within(1e-5));
        assertThat(result.sameTop().value()).isZero();

        // And the other way round: base uniform, model (1/4, 3/4): KL = 1/2 ln 2 + 1/2 ln(2/3), same top (0 vs 1)? no.
        Path uniformBase = directory.resolve("uniform.kld");
        KlDivergence.writeBase(uniform, tokens, new PerplexityOptions(4, -1, false, 0), uniformBase,
                ProgressListener.NONE);
        KldResult reverse = KlDivergence.compare(baseModel, uniformBase, new KldOptions(-1, false, 0),
                KldProgress.Listener.NONE);
        assertThat(reverse.meanKld().value()).isCloseTo(0.5 * Math.log(2) + 0.5 * Math.log(2.0 / 3), within(1e-6));
        assertThat(reverse.meanDeltaP().value()).isCloseTo(0.25, within(1e-6));
    }

    @Test
    void reportAndProgressLinesAreLaidOutAsLlamaCpps() throws IOException {
        FakeModel baseModel = FakeModel.constant(0f, (float) Math.log(3));
        Path base = directory.resolve("hand.kld");
        int[] tokens = {1, 1, 1, 1, 1, 1, 1, 1};
        KlDivergence.writeBase(baseModel, tokens, new PerplexityOptions(4, -1, false, 0), base, ProgressListener.NONE);
        List<String> lines = new ArrayList<>();
        KldResult result = KlDivergence.compare(FakeModel.constant(0f, 0f), base, new KldOptions(-1, false, 0),
                progress -> lines.add(progress.format()));
        assertThat(lines).hasSize(2);
        assertThat(lines.get(1)).startsWith("   2       2.0000 ±    0.0000       0.40547 ±    0.00000       0.13081 ±");
        String report = result.report();
        assertThat(report).contains("Mean PPL(Q)                   :   2.000000 ±   0.000000\n");
        assertThat(report).contains("Mean    KLD:   0.130812 ±   0.000000\n");
        assertThat(report).contains("99.9%   KLD:   0.130812\n");
        assertThat(report).contains(" 5.0%   KLD:   0.130812\n");
        assertThat(report).contains("Median  Δp: -25.000%\n");
        assertThat(report).contains("Same top p:  0.000 ± 0.000 %\n");
        // The correlation of two series without spread is undefined: null in the JSON map.
        assertThat(result.toMap()).containsEntry("ln_ppl_correlation", null);
    }

    @Test
    void aBaseFileOfAnotherVocabularyIsRefused() throws IOException {
        Path base = directory.resolve("base.kld");
        KlDivergence.writeBase(FakeModel.constant(0f, 1f, 2f), new int[] {0, 1, 2, 0, 1, 2, 0, 1},
                new PerplexityOptions(4, -1, false, 0), base, ProgressListener.NONE);
        assertThatThrownBy(() -> KlDivergence.compare(FakeModel.constant(0f, 1f), base,
                new KldOptions(-1, false, 0), KldProgress.Listener.NONE))
                .isInstanceOf(BaseLogitsException.class)
                .hasMessageContaining("vocabulary of 3 tokens, the model has 2");
    }

    @Test
    void chunksLimitsTheComparison() throws IOException {
        Path base = directory.resolve("base.kld");
        FakeModel model = randomModel(50, 1, 0);
        KlDivergence.writeBase(model, randomTokens(3 * 8, 50, 1), new PerplexityOptions(8, -1, false, 0), base,
                ProgressListener.NONE);
        KldResult result = KlDivergence.compare(model, base, new KldOptions(2, false, 0), KldProgress.Listener.NONE);
        assertThat(result.chunks()).isEqualTo(2);
        assertThat(result.tokens()).isEqualTo(2 * 3);
    }

    @Test
    void aFailedBaseRunLeavesNoFile() {
        Path base = directory.resolve("broken.kld");
        FakeModel failing = new FakeModel(4, sequence -> {
            if (sequence.length > 6) {
                throw new IllegalStateException("backend failure");
            }
            return new float[4];
        });
        assertThatThrownBy(() -> KlDivergence.writeBase(failing, new int[16], new PerplexityOptions(8, -1, false, 0),
                base, ProgressListener.NONE)).hasMessageContaining("backend failure");
        assertThat(directory).isEmptyDirectory();
    }

    @Test
    void aCancelledBaseRunLeavesNoFile() {
        Path base = directory.resolve("cancelled.kld");
        assertThatThrownBy(() -> KlDivergence.writeBase(randomModel(20, 1, 0), new int[32],
                new PerplexityOptions(8, -1, false, 0), base, (chunk, chunks, ppl) -> {
                    if (chunk == 2) {
                        throw new java.util.concurrent.CancellationException("Ctrl-C");
                    }
                })).isInstanceOf(java.util.concurrent.CancellationException.class);
        assertThat(directory).isEmptyDirectory();
    }

    @Test
    void percentilesInterpolateLikeLlamaCpp() {
        float[] values = {5, 1, 4, 2, 3};
        Quantiles quantiles = Quantiles.of(values);
        assertThat(quantiles.min()).isEqualTo(1);
        assertThat(quantiles.max()).isEqualTo(5);
        assertThat(quantiles.median()).isEqualTo(3);
        assertThat(quantiles.at(0.10)).isCloseTo(1.4, within(1e-6));   // position 0.4 between 1 and 2
        assertThat(quantiles.at(0.90)).isCloseTo(4.6, within(1e-6));
        assertThat(Quantiles.of(new float[] {4, 1, 3, 2}).median()).isEqualTo(2.5);
    }

    static ByteBuffer littleEndian(Path file) throws IOException {
        return ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    }
}
