package io.panllm.runtime.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.panllm.runtime.Argmax;
import io.panllm.runtime.LanguageModel;
import io.panllm.runtime.Session;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The check every batched decode path must pass: sequences with prompts of different lengths,
 * decoded greedily together with {@link LanguageModel#decodeBatch}, get the same tokens as each
 * decoded alone, and logits within a tolerance of its own.
 */
public final class BatchedDecoding {
    private BatchedDecoding() {
    }

    /** Prompt i: random tokens (never 0), of a length that differs from sequence to sequence. */
    public static int[][] prompts(int vocab, int batch, long seed) {
        Random random = new Random(seed);
        int[][] prompts = new int[batch][];
        for (int i = 0; i < batch; i++) {
            prompts[i] = new int[1 + (7 * i + 3) % 19];
            for (int t = 0; t < prompts[i].length; t++) {
                prompts[i][t] = 1 + random.nextInt(vocab - 1);
            }
        }
        return prompts;
    }

    /** Greedy tokens and logits of each sequence decoded alone, {@code steps} tokens after its prompt. */
    public record Decoded(int[][] tokens, List<List<float[]>> logits) {
    }

    public static Decoded alone(LanguageModel model, int[][] prompts, int steps) {
        int[][] tokens = new int[prompts.length][steps];
        List<List<float[]>> logits = new ArrayList<>();
        for (int i = 0; i < prompts.length; i++) {
            List<float[]> mine = new ArrayList<>();
            try (Session s = model.newSession(prompts[i].length + steps)) {
                float[] last = s.forward(prompts[i]);
                for (int step = 0; step < steps; step++) {
                    int next = Argmax.of(last);
                    tokens[i][step] = next;
                    last = s.forward(new int[] {next});
                    mine.add(last);
                }
            }
            logits.add(mine);
        }
        return new Decoded(tokens, logits);
    }

    /**
     * The same sequences with their prompts run one by one, then {@code steps} batched steps
     * (every step all of them; {@code greedy}: through decodeBatchGreedy, which returns no logits).
     */
    public static Decoded together(LanguageModel model, int[][] prompts, int steps, boolean greedy) {
        int batch = prompts.length;
        List<Session> sessions = new ArrayList<>();
        int[][] tokens = new int[batch][steps];
        List<List<float[]>> logits = new ArrayList<>();
        try {
            int[] next = new int[batch];
            for (int i = 0; i < batch; i++) {
                Session s = model.newSession(prompts[i].length + steps);
                sessions.add(s);
                next[i] = Argmax.of(s.forward(prompts[i]));
                logits.add(new ArrayList<>());
            }
            for (int step = 0; step < steps; step++) {
                for (int i = 0; i < batch; i++) {
                    tokens[i][step] = next[i];
                    assertThat(sessions.get(i).position()).isEqualTo(prompts[i].length + step);
                }
                if (greedy) {
                    next = model.decodeBatchGreedy(sessions, next.clone());
                } else {
                    int[] chosen = new int[batch];
                    model.decodeBatch(sessions, next.clone(), (i, l) -> {
                        logits.get(i).add(l.clone());
                        chosen[i] = Argmax.of(l);
                    });
                    next = chosen;
                }
            }
        } finally {
            sessions.forEach(Session::close);
        }
        return new Decoded(tokens, logits);
    }

    /**
     * Asserts that batched decoding of {@code batch} sequences gives each the tokens it gets
     * alone and logits within {@code tolerance} x the largest |logit| of the step. Where the two
     * best logits of a step alone are closer than twice the largest difference measured at that
     * step, the other rounding may rightly pick the other one: that sequence is compared up to
     * there (at least 3/4 of all steps must be compared).
     */
    public static void assertMatchesAlone(LanguageModel model, int batch, int steps, long seed, double tolerance) {
        int[][] prompts = prompts(model.vocabSize(), batch, seed);
        Decoded alone = alone(model, prompts, steps);
        Decoded together = together(model, prompts, steps, false);
        Decoded greedy = together(model, prompts, steps, true);
        int compared = 0;
        for (int i = 0; i < batch; i++) {
            for (int step = 0; step < steps; step++) {
                int expectedToken = alone.tokens()[i][step];
                assertThat(together.tokens()[i][step]).as("greedy token %d of sequence %d of %d", step, i, batch)
                        .isEqualTo(expectedToken);
                assertThat(greedy.tokens()[i][step]).as("decodeBatchGreedy token %d of sequence %d of %d", step, i, batch)
                        .isEqualTo(expectedToken);
                float[] expected = alone.logits().get(i).get(step);
                float[] actual = together.logits().get(i).get(step);
                double max = 0;
                double worst = 0;
                for (int v = 0; v < expected.length; v++) {
                    max = Math.max(max, Math.abs(expected[v]));
                    worst = Math.max(worst, Math.abs(expected[v] - actual[v]));
                }
                assertThat(worst).as("largest logit difference of sequence %d step %d (batch %d)", i, step, batch)
                        .isLessThanOrEqualTo(tolerance * max);
                compared++;
                if (topTwoGap(expected) <= 2 * worst) {
                    break; // the next token is a near tie: the sequences may rightly part here
                }
            }
        }
        assertThat(compared).as("steps compared before near ties").isGreaterThanOrEqualTo(3 * batch * steps / 4);
    }

    private static double topTwoGap(float[] logits) {
        float best = Float.NEGATIVE_INFINITY;
        float second = Float.NEGATIVE_INFINITY;
        for (float v : logits) {
            if (v > best) {
                second = best;
                best = v;
            } else if (v > second) {
                second = v;
            }
        }
        return best - second;
    }
}
