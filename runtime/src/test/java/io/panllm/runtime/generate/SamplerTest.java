package io.panllm.runtime.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SamplerTest {

    /** No filtering at all: draws follow softmax(logits / temperature). */
    private static final SamplerConfig PLAIN = SamplerConfig.defaults().withTemperature(1).withTopK(0).withTopP(1)
            .withMinP(0).withSeed(42);

    private static float[] randomLogits(int vocabSize, long seed) {
        Random random = new Random(seed);
        float[] logits = new float[vocabSize];
        for (int i = 0; i < vocabSize; i++) {
            logits[i] = (float) (random.nextGaussian() * 3);
        }
        return logits;
    }

    private static float[] logitsOfProbabilities(double... probabilities) {
        float[] logits = new float[probabilities.length];
        for (int i = 0; i < probabilities.length; i++) {
            logits[i] = (float) Math.log(probabilities[i]);
        }
        return logits;
    }

    private static int[] histogram(Sampler sampler, float[] logits, int draws) {
        int[] counts = new int[logits.length];
        for (int i = 0; i < draws; i++) {
            counts[sampler.sample(logits)]++;
        }
        return counts;
    }

    private static int[] support(int[] counts) {
        return IntStream.range(0, counts.length).filter(i -> counts[i] > 0).toArray();
    }

    @Test
    void defaultsAreLlamaCpps() {
        SamplerConfig config = SamplerConfig.defaults();
        assertThat(config.temperature()).isEqualTo(0.8f);
        assertThat(config.topK()).isEqualTo(40);
        assertThat(config.topP()).isEqualTo(0.95f);
        assertThat(config.minP()).isEqualTo(0.05f);
        assertThat(config.repeatPenalty()).isEqualTo(1.0f);
        assertThat(config.repeatLastN()).isEqualTo(64);
        assertThat(config.seed()).isEmpty();
        assertThat(config.isGreedy()).isFalse();
        assertThat(config.penalizes()).isFalse();
    }

    @Test
    void greedyPicksTheArgmax() {
        float[] logits = randomLogits(128_256, 1);
        int expected = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[expected]) {
                expected = i;
            }
        }
        Sampler sampler = Sampler.create(SamplerConfig.greedy(), logits.length);
        for (int i = 0; i < 5; i++) {
            assertThat(sampler.sample(logits)).isEqualTo(expected);
        }
        assertThat(Sampler.create(SamplerConfig.defaults().withTemperature(-1), logits.length).sample(logits))
                .isEqualTo(expected);
    }

    @Test
    void greedyTakesTheFirstOfEqualLogits() {
        assertThat(Sampler.create(SamplerConfig.greedy(), 4).sample(new float[] {1, 3, 3, 2})).isEqualTo(1);
    }

    @Test
    void sampleDoesNotModifyTheLogits() {
        float[] logits = randomLogits(1000, 2);
        float[] copy = logits.clone();
        Sampler sampler = Sampler.create(SamplerConfig.defaults().withRepeatPenalty(1.3f, 64).withSeed(1), 1000);
        sampler.acceptAll(new int[] {1, 2, 3, 4});
        sampler.sample(logits);
        assertThat(logits).containsExactly(copy);
    }

    @Test
    void drawsFollowTheSoftmax() {
        float[] logits = logitsOfProbabilities(0.2, 0.3, 0.5);
        int draws = 40_000;
        int[] counts = histogram(Sampler.create(PLAIN, 3), logits, draws);
        assertThat(counts[0] / (double) draws).isCloseTo(0.2, within(0.01));
        assertThat(counts[1] / (double) draws).isCloseTo(0.3, within(0.01));
        assertThat(counts[2] / (double) draws).isCloseTo(0.5, within(0.01));
    }

    @Test
    void topKRestrictsTheSupportToTheKBest() {
        float[] logits = randomLogits(5000, 3);
        Integer[] byLogit = IntStream.range(0, logits.length).boxed()
                .sorted(Comparator.comparingDouble(i -> -logits[i])).toArray(Integer[]::new);
        // A high temperature flattens the distribution, so every one of the k best shows up.
        Sampler sampler = Sampler.create(PLAIN.withTopK(5).withTemperature(50), logits.length);
        int[] counts = histogram(sampler, logits, 5000);
        assertThat(support(counts)).containsExactlyInAnyOrder(byLogit[0], byLogit[1], byLogit[2], byLogit[3],
                byLogit[4]);
        assertThat(histogram(Sampler.create(PLAIN.withTopK(1), logits.length), logits, 200)[byLogit[0]])
                .isEqualTo(200);
    }

    @Test
    void topPKeepsTheTokenThatCrossesP() {
        float[] logits = logitsOfProbabilities(0.15, 0.5, 0.05, 0.3);
        // 0.5 alone is below 0.7; 0.5 + 0.3 reaches it, so the nucleus is {1, 3}.
        int[] counts = histogram(Sampler.create(PLAIN.withTopP(0.7f), 4), logits, 4000);
        assertThat(support(counts)).containsExactly(1, 3);
        assertThat(counts[1] / 4000.0).isCloseTo(0.5 / 0.8, within(0.03));
        // p just above 0.5 + 0.3 + 0.15 = 0.95 needs all four.
        assertThat(support(histogram(Sampler.create(PLAIN.withTopP(0.96f).withTemperature(5), 4), logits, 4000)))
                .containsExactly(0, 1, 2, 3);
    }

    @Test
    void topPOverALargeVocabularyMatchesAFullSort() {
        // Both paths: unsorted candidates (top-k off: buckets) and sorted ones (after top-k).
        for (long seed = 0; seed < 20; seed++) {
            int vocabSize = seed < 10 ? 3000 : 40_000;
            float[] logits = randomLogits(vocabSize, seed);
            for (int i = 0; i < vocabSize; i++) {
                logits[i] *= seed % 2 == 0 ? 0.1f : 1f;   // flat or peaked
            }
            float p = 0.3f + 0.035f * seed;
            float[] expected = nucleusLogitsByFullSort(logits, p);

            Candidates unsorted = new Candidates(vocabSize);
            unsorted.setAll(logits);
            TopP.apply(unsorted, p);
            // The unsorted path keeps the nucleus in no particular order, and equal logits may be
            // swapped: compare the sorted logits the kept ids stand for.
            assertThat(logitsOf(logits, Arrays.copyOf(unsorted.ids, unsorted.size))).as("seed %d", seed)
                    .isEqualTo(expected);

            Candidates sorted = new Candidates(vocabSize);
            sorted.setTopK(logits, vocabSize);
            TopP.apply(sorted, p);
            assertThat(logitsOf(logits, Arrays.copyOf(sorted.ids, sorted.size))).as("seed %d", seed)
                    .isEqualTo(expected);
        }
    }

    /** The logits of {@code ids}, in ascending order. */
    private static float[] logitsOf(float[] logits, int[] ids) {
        float[] values = new float[ids.length];
        for (int i = 0; i < ids.length; i++) {
            values[i] = logits[ids[i]];
        }
        Arrays.sort(values);
        return values;
    }

    /** The logits of the top-p nucleus found by sorting everything, in ascending order. */
    private static float[] nucleusLogitsByFullSort(float[] logits, float p) {
        float[] ascending = logits.clone();
        Arrays.sort(ascending);
        int n = ascending.length;
        double max = ascending[n - 1];
        double total = 0;
        for (float logit : logits) {
            total += Math.exp(logit - max);
        }
        double cumulative = 0;
        for (int i = n - 1; i >= 0; i--) {
            cumulative += Math.exp(ascending[i] - max);
            if (cumulative >= p * total) {
                return Arrays.copyOfRange(ascending, i, n);
            }
        }
        return ascending;
    }

    @Test
    void theChainMatchesANaiveReferenceOverRandomSettings() {
        Random random = new Random(99);
        for (int trial = 0; trial < 200; trial++) {
            int vocabSize = 50 + random.nextInt(2000);
            float[] logits = randomLogits(vocabSize, trial);
            int topK = random.nextInt(4) == 0 ? 0 : 1 + random.nextInt(vocabSize + 20);
            float topP = random.nextInt(4) == 0 ? 1f : 0.05f + 0.95f * random.nextFloat();
            float minP = random.nextInt(4) == 0 ? 0f : 0.2f * random.nextFloat();
            float temperature = 0.1f + 2 * random.nextFloat();
            SamplerConfig config = PLAIN.withTopK(topK).withTopP(topP).withMinP(minP).withTemperature(temperature);
            Sampler sampler = Sampler.create(config, vocabSize);
            sampler.narrow(logits);
            Candidates actual = sampler.candidates();

            float[] expected = naiveChain(logits, topK, topP, minP, temperature);
            float[] actualLogits = Arrays.copyOf(actual.logits, actual.size);
            Arrays.sort(actualLogits);
            assertThat(actualLogits).as("trial %d: k=%d p=%f min-p=%f t=%f", trial, topK, topP, minP, temperature)
                    .containsExactly(expected);
            for (int i = 0; i < actual.size; i++) {
                assertThat(actual.logits[i]).isEqualTo(logits[actual.ids[i]] / temperature);
            }
        }
    }

    /**
     * top-k, top-p, min-p, temperature written the obvious way: sort everything, cut. Returns the
     * surviving logits after temperature, ascending.
     */
    private static float[] naiveChain(float[] logits, int topK, float topP, float minP, float temperature) {
        float[] descending = logits.clone();
        Arrays.sort(descending);
        for (int i = 0, j = descending.length - 1; i < j; i++, j--) {
            float swap = descending[i];
            descending[i] = descending[j];
            descending[j] = swap;
        }
        int size = topK > 0 ? Math.min(topK, descending.length) : descending.length;
        if (topP < 1) {
            double total = 0;
            for (int i = 0; i < size; i++) {
                total += Math.exp(descending[i] - descending[0]);
            }
            double cumulative = 0;
            for (int i = 0; i < size; i++) {
                cumulative += Math.exp(descending[i] - descending[0]);
                if (cumulative >= topP * total) {
                    size = i + 1;
                    break;
                }
            }
        }
        if (minP > 0) {
            float threshold = descending[0] + (float) Math.log(minP);
            int kept = 0;
            while (kept < size && descending[kept] >= threshold) {
                kept++;
            }
            size = kept;
        }
        float[] result = new float[size];
        for (int i = 0; i < size; i++) {
            result[i] = descending[i] / temperature;
        }
        Arrays.sort(result);
        return result;
    }

    @Test
    void minPDropsTokensFarBelowTheBest() {
        // Relative to the best (0.5): 0.3 -> 0.6, 0.15 -> 0.3, 0.05 -> 0.1; min-p 0.2 keeps the first three.
        float[] logits = logitsOfProbabilities(0.5, 0.3, 0.15, 0.05);
        int[] counts = histogram(Sampler.create(PLAIN.withMinP(0.2f).withTemperature(20), 4), logits, 4000);
        assertThat(support(counts)).containsExactly(0, 1, 2);
    }

    @Test
    void aTinyTemperatureIsAlmostGreedyAndAHugeOneAlmostUniform() {
        float[] logits = {0.5f, 2.0f, 1.0f, 1.9f};
        assertThat(histogram(Sampler.create(PLAIN.withTemperature(1e-3f), 4), logits, 1000)[1]).isEqualTo(1000);
        int draws = 20_000;
        int[] counts = histogram(Sampler.create(PLAIN.withTemperature(1e4f), 4), logits, draws);
        for (int count : counts) {
            assertThat(count / (double) draws).isCloseTo(0.25, within(0.015));
        }
    }

    @Test
    void theSameSeedGivesTheSameTokens() {
        float[] logits = randomLogits(32_000, 4);
        SamplerConfig config = SamplerConfig.defaults().withTemperature(1.5f).withTopK(0).withTopP(1).withMinP(0);
        int[] first = histogramSequence(Sampler.create(config.withSeed(1234), logits.length), logits);
        int[] again = histogramSequence(Sampler.create(config.withSeed(1234), logits.length), logits);
        int[] other = histogramSequence(Sampler.create(config.withSeed(1235), logits.length), logits);
        assertThat(again).containsExactly(first);
        assertThat(other).isNotEqualTo(first);
        Sampler unseeded = Sampler.create(config, logits.length);
        assertThat(histogramSequence(Sampler.create(config.withSeed(unseeded.seed()), logits.length), logits))
                .containsExactly(histogramSequence(unseeded, logits));
    }

    private static int[] histogramSequence(Sampler sampler, float[] logits) {
        int[] tokens = new int[50];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = sampler.sample(logits);
        }
        return tokens;
    }

    @Test
    void repeatPenaltyDividesPositiveAndMultipliesNegativeLogits() {
        Sampler sampler = Sampler.create(SamplerConfig.greedy().withRepeatPenalty(1.5f, 64), 4);
        float[] positive = {2.0f, 1.9f, -1.0f, -1.1f};
        assertThat(sampler.sample(positive)).isEqualTo(0);
        sampler.accept(0);                               // 2.0 / 1.5 = 1.33 < 1.9
        assertThat(sampler.sample(positive)).isEqualTo(1);

        Sampler negative = Sampler.create(SamplerConfig.greedy().withRepeatPenalty(1.5f, 64), 3);
        negative.accept(0);                              // -1.0 * 1.5 = -1.5 < -1.2
        assertThat(negative.sample(new float[] {-1.0f, -1.2f, -5f})).isEqualTo(1);
    }

    @Test
    void penaltiesOnlySeeTheLastNTokens() {
        Sampler sampler = Sampler.create(SamplerConfig.greedy().withRepeatPenalty(2f, 2), 4);
        float[] logits = {3f, 2f, 0f, 0f};
        sampler.acceptAll(new int[] {0, 2, 3});          // 0 has left the window of 2
        assertThat(sampler.sample(logits)).isEqualTo(0);
        sampler.accept(0);
        assertThat(sampler.sample(logits)).isEqualTo(1); // 3 / 2 < 2
        sampler.resetHistory();
        assertThat(sampler.sample(logits)).isEqualTo(0);
    }

    @Test
    void aReconfiguredSamplerKeepsTheRecentTokens() {
        Sampler sampler = Sampler.create(SamplerConfig.greedy(), 4);
        sampler.acceptAll(new int[] {0, 3});
        Sampler penalizing = sampler.reconfigured(SamplerConfig.greedy().withRepeatPenalty(2f, 64));
        assertThat(penalizing.config().repeatPenalty()).isEqualTo(2f);
        assertThat(penalizing.sample(new float[] {3f, 2f, 0f, 0f})).isEqualTo(1);   // 0 was seen: 3 / 2 < 2
    }

    @Test
    void frequencyAndPresencePenaltiesSubtract() {
        SamplerConfig config = SamplerConfig.greedy().withFrequencyAndPresencePenalty(0.5f, 0.25f);
        float[] penalized = {4f, 3f, 2f};
        Sampler sampler = Sampler.create(config, 3);
        sampler.acceptAll(new int[] {0, 0, 1});
        sampler.applyPenalties(penalized, new int[] {0, 0, 1});
        assertThat(penalized).containsExactly(4f - 2 * 0.5f - 0.25f, 3f - 0.5f - 0.25f, 2f);
    }

    @Test
    void topSelectionMatchesASort() {
        Random random = new Random(7);
        for (int trial = 0; trial < 80; trial++) {
            // up to 5000 values: the vector path (heap full, whole vectors skipped) and its tails
            int n = 1 + random.nextInt(trial < 50 ? 500 : 5000);
            int k = 1 + random.nextInt(Math.min(n, 100) + 10);
            float[] values = new float[n];
            int nans = 0;
            for (int i = 0; i < n; i++) {
                values[i] = random.nextInt(100) / 7f;    // with ties
                if (trial % 3 == 0 && random.nextInt(50) == 0) {
                    values[i] = Float.NaN;               // never selected
                    nans++;
                }
            }
            int[] outIds = new int[n];
            float[] outValues = new float[n];
            int selected = TopSelection.selectLargest(values, null, n, k, outIds, outValues);
            float[] sorted = values.clone();
            Arrays.sort(sorted);                          // NaNs sort last
            assertThat(selected).isEqualTo(Math.min(k, n - nans));
            for (int i = 0; i < selected; i++) {
                assertThat(outValues[i]).isEqualTo(sorted[n - nans - 1 - i]);
                assertThat(values[outIds[i]]).isEqualTo(outValues[i]);
            }
            assertThat(IntStream.of(Arrays.copyOf(outIds, selected)).distinct().count()).isEqualTo(selected);
        }
    }

    @Test
    void samplingLeavesTheCallersLogitsAlone() {
        Random random = new Random(3);
        float[] logits = new float[1000];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) random.nextGaussian();
        }
        float[] before = logits.clone();
        for (SamplerConfig config : new SamplerConfig[] {SamplerConfig.defaults().withSeed(1),
            SamplerConfig.defaults().withSeed(1).withRepeatPenalty(1.3f, 8), SamplerConfig.greedy()}) {
            Sampler sampler = Sampler.create(config, logits.length);
            sampler.acceptAll(new int[] {1, 2, 3});
            sampler.sample(logits);
            assertThat(logits).as(config.toString()).containsExactly(before);
        }
    }

    @Test
    void rejectsBadSettings() {
        assertThatThrownBy(() -> SamplerConfig.defaults().withMinP(1.5f)).hasMessageContaining("min-p");
        assertThatThrownBy(() -> SamplerConfig.defaults().withTopP(0)).hasMessageContaining("top-p");
        assertThatThrownBy(() -> SamplerConfig.defaults().withRepeatPenalty(0, 64)).hasMessageContaining("repeat");
        assertThatThrownBy(() -> SamplerConfig.defaults().withTemperature(Float.NaN))
                .hasMessageContaining("temperature");
        assertThatThrownBy(() -> Sampler.create(SamplerConfig.defaults(), 10).sample(new float[9]))
                .hasMessageContaining("expected 10 logits");
    }

    @Test
    void recentTokensKeepsTheLastN() {
        RecentTokens recent = new RecentTokens(3);
        for (int token = 1; token <= 5; token++) {
            recent.add(token);
        }
        assertThat(recent.toArray()).containsExactly(3, 4, 5);
        recent.clear();
        recent.add(9);
        assertThat(recent.toArray()).containsExactly(9);
        RecentTokens none = new RecentTokens(0);
        none.add(1);
        assertThat(none.toArray()).isEmpty();
    }
}
