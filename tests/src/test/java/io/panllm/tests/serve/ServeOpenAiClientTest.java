package io.panllm.tests.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionChoice;
import com.openai.models.completions.CompletionCreateParams;
import io.panllm.runtime.LoadedModel;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** panllm serve driven by the official OpenAI Java client (com.openai:openai-java). */
class ServeOpenAiClientTest {
    private static final String KEY = "test-key-123";
    private static LoadedModel loaded;
    private static TestServer server;
    private static OpenAIClient client;

    @BeforeAll
    static void start() throws Exception {
        loaded = TestServer.loadStories();
        server = TestServer.start(loaded, 4, 8, KEY);
        client = server.client(KEY);
    }

    @AfterAll
    static void stop() {
        server.close();
        loaded.close();
    }

    private static ChatCompletionCreateParams.Builder chat(String message) {
        return ChatCompletionCreateParams.builder().model("stories260K").addUserMessage(message).temperature(0)
                .maxCompletionTokens(24);
    }

    @Test
    void chatCompletionAnswersWithUsageAndALengthFinish() {
        ChatCompletion answer = client.chat().completions().create(chat("Tell me a story").build());
        assertThat(answer.choices()).hasSize(1);
        ChatCompletion.Choice choice = answer.choices().getFirst();
        assertThat(choice.message().content()).get().asString().isNotBlank();
        assertThat(choice.finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.LENGTH);
        assertThat(answer.usage()).get().satisfies(u -> {
            assertThat(u.completionTokens()).isEqualTo(24);
            assertThat(u.promptTokens()).isGreaterThan(5);
            assertThat(u.totalTokens()).isEqualTo(u.promptTokens() + 24);
        });
        assertThat(answer.model()).isEqualTo("stories260K");
    }

    @Test
    void streamedChatIsTheSameTextAsTheWholeAnswerAndEndsWithUsage() {
        String whole = client.chat().completions().create(chat("Tell me a story").build())
                .choices().getFirst().message().content().orElseThrow();
        StringBuilder streamed = new StringBuilder();
        AtomicReference<ChatCompletionChunk> last = new AtomicReference<>();
        int[] chunks = {0};
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(
                chat("Tell me a story").streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            stream.stream().forEach(chunk -> {
                chunks[0]++;
                chunk.choices().forEach(c -> c.delta().content().ifPresent(streamed::append));
                last.set(chunk);
            });
        }
        assertThat(streamed.toString()).isEqualTo(whole);
        assertThat(chunks[0]).isGreaterThan(5);
        assertThat(last.get().choices()).isEmpty();
        assertThat(last.get().usage()).get().satisfies(u -> assertThat(u.completionTokens()).isEqualTo(24));
    }

    @Test
    void completionsStreamedAndNotGiveTheSameGreedyText() {
        CompletionCreateParams params = CompletionCreateParams.builder().model("stories260K").prompt("Once upon a time")
                .maxTokens(30).temperature(0).build();
        Completion whole = client.completions().create(params);
        CompletionChoice choice = whole.choices().getFirst();
        assertThat(choice.text()).startsWith(", there was");
        assertThat(choice.finishReason()).isEqualTo(CompletionChoice.FinishReason.LENGTH);
        StringBuilder streamed = new StringBuilder();
        try (StreamResponse<Completion> stream = client.completions().createStreaming(params)) {
            stream.stream().forEach(c -> c.choices().forEach(ch -> streamed.append(ch.text())));
        }
        assertThat(streamed.toString()).isEqualTo(choice.text());
    }

    @Test
    void aStopStringEndsTheAnswerBeforeIt() {
        String full = client.completions().create(CompletionCreateParams.builder().model("m").prompt("Once upon a time")
                .maxTokens(30).temperature(0).build()).choices().getFirst().text();
        CompletionChoice stopped = client.completions().create(CompletionCreateParams.builder().model("m")
                .prompt("Once upon a time").maxTokens(30).temperature(0).stop("Lily").build()).choices().getFirst();
        assertThat(full).contains("Lily");
        assertThat(stopped.text()).isEqualTo(full.substring(0, full.indexOf("Lily")));
        assertThat(stopped.finishReason()).isEqualTo(CompletionChoice.FinishReason.STOP);
    }

    @Test
    void seededSamplingRepeatsAndDifferentSeedsDiffer() {
        List<String> texts = new java.util.ArrayList<>();
        for (long seed : new long[] {7, 7, 8}) {
            texts.add(client.completions().create(CompletionCreateParams.builder().model("m").prompt("Once upon a time")
                    .maxTokens(40).temperature(1.0).seed(seed).build()).choices().getFirst().text());
        }
        assertThat(texts.get(0)).isEqualTo(texts.get(1));
        assertThat(texts.get(2)).isNotEqualTo(texts.get(0));
    }

    @Test
    void echoWithLogprobsScoresThePromptAsLmEvaluationHarnessAsks() {
        Completion scored = client.completions().create(CompletionCreateParams.builder().model("m")
                .prompt("Once upon a time there was a girl").maxTokens(0).echo(true).logprobs(1).temperature(0).build());
        CompletionChoice choice = scored.choices().getFirst();
        assertThat(choice.text()).isEqualTo("Once upon a time there was a girl");
        CompletionChoice.Logprobs logprobs = choice.logprobs().orElseThrow();
        List<Double> values = logprobs.tokenLogprobs().orElseThrow();
        assertThat(values.size()).isEqualTo(scored.usage().orElseThrow().promptTokens());
        assertThat(values.subList(1, values.size())).allSatisfy(v -> assertThat(v).isNegative());
        assertThat(String.join("", logprobs.tokens().orElseThrow())).endsWith("Once upon a time there was a girl");
    }

    @Test
    void aWrongKeyIsUnauthorizedAndBadParametersAreBadRequests() {
        OpenAIClient wrong = server.client("not-the-key");
        assertThatThrownBy(() -> wrong.chat().completions().create(chat("Hi").build()))
                .isInstanceOf(UnauthorizedException.class).hasMessageContaining("invalid API key");
        assertThatThrownBy(() -> client.chat().completions().create(chat("Hi").temperature(7).build()))
                .isInstanceOf(BadRequestException.class).hasMessageContaining("temperature");
        assertThatThrownBy(() -> client.completions().create(CompletionCreateParams.builder().model("m")
                .prompt("Once").maxTokens(100_000).build()))
                .isInstanceOf(BadRequestException.class).hasMessageContaining("max_tokens");
    }

    @Test
    void modelsListsTheServedModel() {
        assertThat(client.models().list().data()).extracting(m -> m.id()).containsExactly("stories260K");
    }
}
