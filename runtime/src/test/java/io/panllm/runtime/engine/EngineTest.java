package io.panllm.runtime.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.panllm.runtime.LoadedModel;
import io.panllm.runtime.Session;
import io.panllm.runtime.generate.GenerationOptions;
import io.panllm.runtime.generate.GenerationResult;
import io.panllm.runtime.generate.Generator;
import io.panllm.runtime.generate.Sampler;
import io.panllm.runtime.generate.SamplerConfig;
import io.panllm.runtime.generate.StopReason;
import io.panllm.runtime.generate.TokenListener;
import io.panllm.runtime.generate.TokenizerTextStream;
import io.panllm.runtime.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The engine against the real stories260K model on the CPU, checked against the one-sequence {@link Generator}. */
class EngineTest {
    private static LoadedModel loaded;
    private static Tokenizer tokenizer;

    @BeforeAll
    static void load() {
        Path stories = Path.of(System.getProperty("panllm.home"), "models/stories260K/stories260K_q80.bin");
        loaded = LoadedModel.openLlama2c(stories, null, LoadedModel.Device.CPU, 2);
        tokenizer = loaded.tokenizer();
    }

    @AfterAll
    static void close() {
        loaded.close();
    }

    private static GenerationRequest greedy(String prompt, int maxTokens) {
        return new GenerationRequest(tokenizer.encode(prompt, true, false), SamplerConfig.greedy(), maxTokens,
                tokenizer.stopTokens(), List.of(), -1, false);
    }

    /** What a job produced, read to its end. */
    record Outcome(List<Integer> tokens, String text, Event last, Event.PromptLogprobs echo) {
    }

    private static Outcome drain(Job job) throws InterruptedException {
        List<Integer> tokens = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        Event.PromptLogprobs echo = null;
        while (true) {
            Event event = job.next(60, TimeUnit.SECONDS);
            assertThat(event).as("an event within 60 s").isNotNull();
            switch (event) {
                case Event.Token t -> {
                    tokens.add(t.token());
                    text.append(t.text());
                }
                case Event.PromptLogprobs p -> echo = p;
                case Event.Finished f -> {
                    text.append(f.trailingText());
                    return new Outcome(tokens, text.toString(), f, echo);
                }
                case Event.Failed f -> {
                    return new Outcome(tokens, text.toString(), f, echo);
                }
            }
        }
    }

    private static GenerationResult reference(String prompt, int maxTokens) {
        try (Session session = loaded.model().newSession(256)) {
            Generator generator = new Generator(Sampler.create(SamplerConfig.greedy(), loaded.model().vocabSize()),
                    () -> new TokenizerTextStream(tokenizer));
            return generator.generate(session, tokenizer.encode(prompt, true, false),
                    new GenerationOptions(maxTokens, tokenizer.stopTokens()), TokenListener.NONE);
        }
    }

    @Test
    void greedyTokensEqualTheGeneratorsAlsoWith31OtherSequencesInTheBatch() throws Exception {
        GenerationResult expected = reference("Once upon a time", 60);
        try (Engine engine = new Engine(loaded.model(), tokenizer, new EngineConfig(32, 32 * 256, 64, 8))) {
            Outcome alone = drain(engine.submit(greedy("Once upon a time", 60)));
            assertThat(alone.tokens()).containsExactlyElementsOf(generatedTokens(expected));
            assertThat(alone.text()).isEqualTo(expected.text());

            // 31 others with different prompts and lengths, the reference request in the middle of them.
            List<Job> others = new ArrayList<>();
            String[] prompts = {"Lily", "The cat", "One day, a big", "Tom and Sam went", "She was happy"};
            for (int i = 0; i < 16; i++) {
                others.add(engine.submit(greedy(prompts[i % prompts.length], 20 + i * 3)));
            }
            Job watched = engine.submit(greedy("Once upon a time", 60));
            for (int i = 16; i < 31; i++) {
                others.add(engine.submit(greedy(prompts[i % prompts.length], 20 + i * 3)));
            }
            Outcome batched = drain(watched);
            assertThat(batched.tokens()).containsExactlyElementsOf(generatedTokens(expected));
            assertThat(batched.text()).isEqualTo(expected.text());
            for (int i = 0; i < others.size(); i++) {
                Outcome other = drain(others.get(i));
                GenerationResult ref = reference(prompts[i % prompts.length], 20 + i * 3);
                assertThat(other.tokens()).as("request %d", i).containsExactlyElementsOf(generatedTokens(ref));
            }
            assertThat(engine.stats().generatedTokens()).isGreaterThan(31 * 20);
            assertThat(engine.stats().active()).isZero();
        }
    }

    private static List<Integer> generatedTokens(GenerationResult result) {
        int[] tokens = result.reason() == StopReason.STOP_TOKEN
                ? Arrays.copyOf(result.tokens(), result.tokens().length - 1) : result.tokens();
        return Arrays.stream(tokens).boxed().toList();
    }

    @Test
    void aLongPromptIsPrefilledInChunksWhileAnotherStreamDecodes() throws Exception {
        String longPrompt = "Once upon a time, there was a little girl named Lily. She liked to play outside. ".repeat(4);
        GenerationResult expected = reference(longPrompt, 10);
        try (Engine engine = new Engine(loaded.model(), tokenizer, new EngineConfig(2, 2 * 256, 8, 2))) {
            Job running = engine.submit(greedy("Lily", 200));
            Job chunked = engine.submit(greedy(longPrompt, 10));
            assertThat(drain(chunked).tokens()).containsExactlyElementsOf(generatedTokens(expected));
            running.cancel();
            Outcome cancelled = drain(running);
            assertThat(((Event.Finished) cancelled.last()).reason()).isIn(FinishReason.CANCELLED, FinishReason.STOP);
        }
    }

    @Test
    void cancellingFreesTheSlotForTheNextRequest() throws Exception {
        try (Engine engine = new Engine(loaded.model(), tokenizer, new EngineConfig(1, 256, 64, 1))) {
            Job first = engine.submit(new GenerationRequest(tokenizer.encode("Lily", true, false), SamplerConfig.greedy(),
                    -1, java.util.Set.of(), List.of(), -1, false)); // no stop token: runs until the context is full
            assertThat(first.next(30, TimeUnit.SECONDS)).isInstanceOf(Event.Token.class);
            Job second = engine.submit(greedy("The cat", 5));
            assertThatThrownBy(() -> engine.submit(greedy("The dog", 5)))
                    .isInstanceOf(EngineBusyException.class).hasMessageContaining("busy");
            first.cancel();
            Outcome cancelled = drain(first);
            assertThat(((Event.Finished) cancelled.last()).reason()).isEqualTo(FinishReason.CANCELLED);
            Outcome next = drain(second);
            assertThat(((Event.Finished) next.last()).reason()).isEqualTo(FinishReason.LENGTH);
            assertThat(next.tokens()).hasSize(5);
        }
    }

    @Test
    void stopStringsEndTheAnswerBeforeThemAndMaxTokensGivesLength() throws Exception {
        GenerationResult expected = reference("Once upon a time", 60);
        String stop = expected.text().substring(20, 26);
        int cut = expected.text().indexOf(stop);
        try (Engine engine = new Engine(loaded.model(), tokenizer, new EngineConfig(1, 256, 64, 1))) {
            GenerationRequest request = new GenerationRequest(tokenizer.encode("Once upon a time", true, false),
                    SamplerConfig.greedy(), 60, tokenizer.stopTokens(), List.of(stop), -1, false);
            Outcome stopped = drain(engine.submit(request));
            assertThat(stopped.text()).isEqualTo(expected.text().substring(0, cut));
            assertThat(((Event.Finished) stopped.last()).reason()).isEqualTo(FinishReason.STOP);

            Outcome limited = drain(engine.submit(greedy("Once upon a time", 3)));
            assertThat(limited.tokens()).hasSize(3);
            assertThat(((Event.Finished) limited.last()).reason()).isEqualTo(FinishReason.LENGTH);
        }
    }

    @Test
    void echoGivesThePromptsLogprobsFromTheModelsLogits() throws Exception {
        int[] prompt = tokenizer.encode("Once upon a time there was", true, false);
        float[][] rows = new float[prompt.length][];
        try (Session session = loaded.model().newSession(64)) {
            session.forward(prompt, (i, logits) -> rows[i] = logits.clone());
        }
        try (Engine engine = new Engine(loaded.model(), tokenizer, new EngineConfig(1, 256, 3, 1))) {
            Outcome scored = drain(engine.submit(new GenerationRequest(prompt, SamplerConfig.greedy(), 0,
                    tokenizer.stopTokens(), List.of(), 2, true)));
            assertThat(scored.tokens()).isEmpty();
            List<TokenLogprob> echo = scored.echo().tokens();
            assertThat(echo).hasSize(prompt.length);
            assertThat(echo.getFirst().logprob()).isNaN();
            for (int i = 1; i < prompt.length; i++) {
                float[] row = rows[i - 1];
                double logSum = Math.log(Arrays.stream(toDoubles(row)).map(Math::exp).sum());
                assertThat(echo.get(i).token()).isEqualTo(prompt[i]);
                assertThat((double) echo.get(i).logprob()).isCloseTo(row[prompt[i]] - logSum, org.assertj.core.data.Offset.offset(1e-4));
                assertThat(echo.get(i).top()).hasSize(2);
                assertThat(echo.get(i).top().get(0).token()).isEqualTo(io.panllm.runtime.Argmax.of(row));
                assertThat(echo.get(i).top().get(0).logprob()).isGreaterThanOrEqualTo(echo.get(i).top().get(1).logprob());
            }
        }
    }

    private static double[] toDoubles(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }

    @Test
    void aPromptLongerThanASlotIsRefusedAndDrainingRefusesNewWork() {
        Engine engine = new Engine(loaded.model(), tokenizer, new EngineConfig(2, 64, 16, 1));
        assertThatThrownBy(() -> engine.submit(greedy("Once upon a time there was a girl. ".repeat(10), 5)))
                .isInstanceOf(PromptTooLongException.class).hasMessageContaining("a slot holds 32");
        engine.drainAndClose(Duration.ofSeconds(10));
        assertThatThrownBy(() -> engine.submit(greedy("Lily", 5)))
                .isInstanceOf(EngineBusyException.class).hasMessageContaining("shutting down");
    }
}
