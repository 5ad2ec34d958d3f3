package io.panllm.runtime.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.panllm.runtime.ContextOverflowException;
import io.panllm.runtime.Session;
import io.panllm.runtime.testing.FakeModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class GeneratorTest {

    private static final int VOCAB = 50;

    /** Greedy next token = (sum of the sequence so far) mod VOCAB: depends on every token fed, in order. */
    private static FakeModel sumModel() {
        return new FakeModel(VOCAB, sequence -> {
            float[] logits = new float[VOCAB];
            logits[Arrays.stream(sequence).sum() % VOCAB] = 10;
            return logits;
        });
    }

    /** The greedy continuation computed by hand: each token is the sum of all before it, mod VOCAB. */
    private static int[] expectedContinuation(int[] prompt, int count) {
        int sum = Arrays.stream(prompt).sum();
        int[] tokens = new int[count];
        for (int i = 0; i < count; i++) {
            tokens[i] = sum % VOCAB;
            sum += tokens[i];
        }
        return tokens;
    }

    /** Decodes token t as "<t>". */
    private static TextStream angleBrackets() {
        return new TextStream() {
            @Override
            public String next(int token) {
                return "<" + token + ">";
            }

            @Override
            public String finish() {
                return "";
            }
        };
    }

    private static Generator greedyGenerator() {
        return new Generator(Sampler.create(SamplerConfig.greedy(), VOCAB), GeneratorTest::angleBrackets);
    }

    private record Piece(int token, String text) {
    }

    @Test
    void generatesUntilMaxTokensAndLeavesTheLastTokenPending() {
        FakeModel model = sumModel();
        try (Session session = model.newSession(64)) {
            int[] prompt = {1, 2, 3};
            List<Piece> pieces = new ArrayList<>();
            GenerationResult result = greedyGenerator().generate(session, prompt, GenerationOptions.of(5),
                    (token, text) -> pieces.add(new Piece(token, text)));

            int[] expected = expectedContinuation(prompt, 5);
            assertThat(result.tokens()).containsExactly(expected);
            assertThat(result.reason()).isEqualTo(StopReason.MAX_TOKENS);
            assertThat(pieces).extracting(Piece::token).containsExactly(Arrays.stream(expected).boxed()
                    .toArray(Integer[]::new));
            assertThat(result.text()).isEqualTo(String.join("", pieces.stream().map(Piece::text).toList()));
            assertThat(result.text()).startsWith("<" + expected[0] + "><" + expected[1] + ">");
            assertThat(session.position()).isEqualTo(prompt.length + 4);
            assertThat(result.pendingToken()).hasValue(expected[4]);
            // The prompt went in as one batch, then one token at a time.
            assertThat(model.batches.getFirst()).containsExactly(prompt);
            assertThat(model.batches).hasSize(1 + 4);
            assertThat(result.promptTokens()).isEqualTo(3);
            assertThat(result.promptNanos()).isPositive();
            assertThat(result.generationNanos()).isPositive();
            assertThat(result.tokensPerSecond()).isPositive();
        }
    }

    @Test
    void stopsAtAStopTokenWithoutEmittingIt() {
        FakeModel model = sumModel();
        int[] prompt = {1, 2, 3};
        int[] expected = expectedContinuation(prompt, 10);
        int stop = expected[3];
        try (Session session = model.newSession(64)) {
            List<Integer> emitted = new ArrayList<>();
            GenerationResult result = greedyGenerator().generate(session, prompt, GenerationOptions.of(-1, stop),
                    (token, text) -> emitted.add(token));
            int stopIndex = firstIndexOf(expected, stop);
            assertThat(result.reason()).isEqualTo(StopReason.STOP_TOKEN);
            assertThat(result.tokens()).containsExactly(Arrays.copyOf(expected, stopIndex + 1));
            assertThat(emitted).hasSize(stopIndex);
            assertThat(result.text()).doesNotContain("<" + stop + ">");
            assertThat(session.position()).isEqualTo(prompt.length + stopIndex);
        }
    }

    private static int firstIndexOf(int[] values, int value) {
        for (int i = 0; i < values.length; i++) {
            if (values[i] == value) {
                return i;
            }
        }
        throw new AssertionError(value + " not found");
    }

    @Test
    void aFullContextEndsGenerationWithAReason() {
        FakeModel model = sumModel();
        try (Session session = model.newSession(8)) {
            GenerationResult result = greedyGenerator().generate(session, new int[] {1, 2, 3},
                    GenerationOptions.of(-1), TokenListener.NONE);
            assertThat(result.reason()).isEqualTo(StopReason.CONTEXT_FULL);
            assertThat(session.position()).isEqualTo(8);
            // 5 tokens filled positions 3..7, the 6th was sampled from the last logits.
            assertThat(result.tokens()).containsExactly(expectedContinuation(new int[] {1, 2, 3}, 6));
        }
    }

    @Test
    void aPromptThatDoesNotFitIsRejectedBeforeAnythingIsEvaluated() {
        FakeModel model = sumModel();
        try (Session session = model.newSession(4)) {
            session.forward(new int[] {1, 2});
            assertThatThrownBy(() -> greedyGenerator().generate(session, new int[] {1, 2, 3},
                    GenerationOptions.of(5), TokenListener.NONE))
                    .isInstanceOf(ContextOverflowException.class)
                    .hasMessageContaining("context full");
            assertThat(session.position()).isEqualTo(2);
        }
    }

    @Test
    void zeroMaxTokensOnlyEvaluatesThePrompt() {
        FakeModel model = sumModel();
        try (Session session = model.newSession(16)) {
            GenerationResult result = greedyGenerator().generate(session, new int[] {1, 2},
                    GenerationOptions.of(0), TokenListener.NONE);
            assertThat(result.tokens()).isEmpty();
            assertThat(result.pendingToken()).isEmpty();
            assertThat(result.reason()).isEqualTo(StopReason.MAX_TOKENS);
            assertThat(session.position()).isEqualTo(2);
        }
    }

    @Test
    void cancellingMidGenerationLeavesTheSessionAtAKnownPositionAndItCanGoOn() {
        FakeModel model = sumModel();
        Generator generator = greedyGenerator();
        int[] prompt = {4, 5};
        try (Session session = model.newSession(64)) {
            GenerationResult first = generator.generate(session, prompt, GenerationOptions.of(100),
                    (token, text) -> {
                        if (model.batches.size() == 3) {  // prompt + 2 single tokens evaluated
                            generator.cancel();
                        }
                    });
            assertThat(first.reason()).isEqualTo(StopReason.CANCELLED);
            assertThat(first.tokens()).hasSize(3);
            assertThat(session.position()).isEqualTo(prompt.length + first.tokens().length - 1);

            // Continue: feed the pending token and generate more; the sequence is as if uninterrupted.
            int[] next = {first.pendingToken().orElseThrow()};
            GenerationResult second = generator.generate(session, next, GenerationOptions.of(4), TokenListener.NONE);
            assertThat(second.reason()).isEqualTo(StopReason.MAX_TOKENS);
            int[] all = expectedContinuation(prompt, 7);
            assertThat(first.tokens()).containsExactly(Arrays.copyOf(all, 3));
            assertThat(second.tokens()).containsExactly(Arrays.copyOfRange(all, 3, 7));
        }
    }

    @Test
    void cancelFromAnotherThreadStopsBetweenTokens() throws Exception {
        FakeModel model = sumModel();
        model.delayMillis = 5;
        Generator generator = greedyGenerator();
        try (Session session = model.newSession(100_000)) {
            AtomicReference<GenerationResult> result = new AtomicReference<>();
            Thread worker = new Thread(() -> result.set(generator.generate(session, new int[] {1},
                    GenerationOptions.of(-1), TokenListener.NONE)));
            worker.start();
            Thread.sleep(100);
            generator.cancel();
            worker.join(10_000);
            assertThat(worker.isAlive()).isFalse();
            assertThat(result.get().reason()).isEqualTo(StopReason.CANCELLED);
            assertThat(session.position()).isEqualTo(1 + result.get().tokens().length - 1);
        }
    }

    @Test
    void aCancellationFlagIsPolledBetweenTokens() {
        FakeModel model = sumModel();
        try (Session session = model.newSession(64)) {
            List<Integer> seen = new ArrayList<>();
            GenerationResult result = greedyGenerator().generate(session, new int[] {3}, GenerationOptions.of(50),
                    (token, text) -> seen.add(token), () -> seen.size() >= 4);
            assertThat(result.reason()).isEqualTo(StopReason.CANCELLED);
            assertThat(result.tokens()).hasSize(4);
            assertThat(session.position()).isEqualTo(1 + 3);
        }
    }

    @Test
    void anInterruptStopsGenerationAndStaysSet() {
        FakeModel model = sumModel();
        try (Session session = model.newSession(64)) {
            GenerationResult result = greedyGenerator().generate(session, new int[] {1}, GenerationOptions.of(50),
                    (token, text) -> Thread.currentThread().interrupt());
            assertThat(Thread.interrupted()).isTrue();       // clears it for the other tests
            assertThat(result.reason()).isEqualTo(StopReason.CANCELLED);
            assertThat(result.tokens()).hasSize(1);
            assertThat(session.position()).isEqualTo(1);
        }
    }

    @Test
    void heldBackTextComesOutAtTheEnd() {
        // A decoder that holds everything back until finish(), like a UTF-8 sequence cut short.
        TextStream holding = new TextStream() {
            private final StringBuilder held = new StringBuilder();

            @Override
            public String next(int token) {
                held.append((char) ('a' + token % 26));
                return "";
            }

            @Override
            public String finish() {
                return held.toString();
            }
        };
        FakeModel model = sumModel();
        List<String> trailing = new ArrayList<>();
        try (Session session = model.newSession(64)) {
            GenerationResult result = new Generator(Sampler.create(SamplerConfig.greedy(), VOCAB), () -> holding)
                    .generate(session, new int[] {1}, GenerationOptions.of(3), new TokenListener() {
                        @Override
                        public void onToken(int token, String piece) {
                            assertThat(piece).isEmpty();
                        }

                        @Override
                        public void onTrailingText(String text) {
                            trailing.add(text);
                        }
                    });
            assertThat(trailing).containsExactly(result.text());
            assertThat(result.text()).hasSize(3);
        }
    }

    @Test
    void theSamplerSeesThePromptForRepetitionPenalties() {
        // Token 7 is the best, but it is in the prompt and the penalty pushes it below token 8.
        float[] logits = new float[VOCAB];
        logits[7] = 2.0f;
        logits[8] = 1.5f;
        FakeModel model = FakeModel.constant(logits);
        Sampler sampler = Sampler.create(SamplerConfig.greedy().withRepeatPenalty(2f, 64), VOCAB);
        try (Session session = model.newSession(64)) {
            GenerationResult result = new Generator(sampler, GeneratorTest::angleBrackets)
                    .generate(session, new int[] {7}, GenerationOptions.of(1), TokenListener.NONE);
            assertThat(result.tokens()).containsExactly(8);
        }
    }
}
