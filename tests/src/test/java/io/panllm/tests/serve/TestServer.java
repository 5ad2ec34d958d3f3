package io.panllm.tests.serve;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import io.panllm.cli.serve.OpenAiServer;
import io.panllm.cli.serve.ServerSettings;
import io.panllm.runtime.LanguageModel;
import io.panllm.runtime.LoadedModel;
import io.panllm.runtime.Session;
import io.panllm.runtime.chat.ChatTemplate;
import io.panllm.runtime.engine.Engine;
import io.panllm.runtime.engine.EngineConfig;
import io.panllm.runtime.generate.SamplerConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** panllm serve in-process on a free port, over the stories260K model on the CPU. */
final class TestServer implements AutoCloseable {
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    final OpenAiServer server;
    final String base;

    private TestServer(OpenAiServer server) {
        this.server = server;
        this.base = "http://127.0.0.1:" + server.port();
    }

    static LoadedModel loadStories() {
        Path stories = Path.of(System.getProperty("panllm.home"), "models/stories260K/stories260K_q80.bin");
        return LoadedModel.openLlama2c(stories, null, LoadedModel.Device.CPU, 2);
    }

    static TestServer start(LoadedModel loaded, int slots, int queue, String apiKey) throws Exception {
        return start(loaded, loaded.model(), slots, queue, apiKey);
    }

    /** @param model the model to serve (a slowed-down wrapper of the loaded one, for cancellation tests) */
    static TestServer start(LoadedModel loaded, LanguageModel model, int slots, int queue, String apiKey) throws Exception {
        EngineConfig config = new EngineConfig(slots, slots * 256, 64, queue);
        ServerSettings settings = new ServerSettings("127.0.0.1", 0, apiKey, "stories260K", 64 * 1024, 256,
                SamplerConfig.defaults(), Duration.ofSeconds(60));
        Engine engine = new Engine(model, loaded.tokenizer(), config);
        OpenAiServer server = new OpenAiServer(engine, loaded.tokenizer(),
                ChatTemplate.forVocabulary(loaded.tokenizer().vocabulary()), null, settings);
        server.start();
        return new TestServer(server);
    }

    OpenAIClient client(String apiKey) {
        return OpenAIOkHttpClient.builder().baseUrl(base + "/v1").apiKey(apiKey).maxRetries(0)
                .timeout(Duration.ofSeconds(60)).build();
    }

    HttpResponse<String> post(String path, String json, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
                .POST(HttpRequest.BodyPublishers.ofString(json)).header("Content-Type", "application/json");
        if (headers.length > 0) {
            request.headers(headers);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A Prometheus gauge or counter from /metrics. */
    double metric(String name) throws IOException, InterruptedException {
        for (String line : get("/metrics").body().lines().toList()) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1));
            }
        }
        throw new AssertionError("no metric " + name);
    }

    @Override
    public void close() {
        server.close();
    }

    /** A model that takes at least {@code millis} per decode step, so a test can act while a request runs. */
    static LanguageModel slowed(LanguageModel model, long millis) {
        return new LanguageModel() {
            @Override
            public int vocabSize() {
                return model.vocabSize();
            }

            @Override
            public int trainedContextLength() {
                return model.trainedContextLength();
            }

            @Override
            public Session newSession(int contextSize) {
                return model.newSession(contextSize);
            }

            @Override
            public void decodeBatch(List<? extends Session> sessions, int[] tokens, Session.LogitsSink sink) {
                try {
                    Thread.sleep(millis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                model.decodeBatch(sessions, tokens, sink);
            }

            @Override
            public String description() {
                return model.description();
            }

            @Override
            public void close() {
            }
        };
    }
}
