package io.panllm.tests.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.panllm.runtime.LoadedModel;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** panllm serve over plain HTTP: SSE framing, error shapes and statuses, limits, cancellation. */
class ServeHttpTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static LoadedModel loaded;

    @BeforeAll
    static void load() {
        loaded = TestServer.loadStories();
    }

    @AfterAll
    static void close() {
        loaded.close();
    }

    @Test
    void streamsAreServerSentEventsFlushedPerTokenEndingInDone() throws Exception {
        try (TestServer server = TestServer.start(loaded, 2, 4, null)) {
            HttpResponse<String> response = server.post("/v1/completions",
                    "{\"prompt\":\"Once upon a time\",\"max_tokens\":12,\"temperature\":0,\"stream\":true,\"logprobs\":0,"
                            + "\"stream_options\":{\"include_usage\":true}}");
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("Content-Type")).get().asString().startsWith("text/event-stream");
            String body = response.body();
            assertThat(body).endsWith("data: [DONE]\n\n");
            String[] events = body.split("\n\n");
            assertThat(events).allSatisfy(e -> assertThat(e).startsWith("data: ").doesNotContain("\n"));
            List<JsonNode> chunks = new ArrayList<>();
            for (int i = 0; i < events.length - 1; i++) {
                chunks.add(JSON.readTree(events[i].substring("data: ".length())));
            }
            // One chunk per token (each carries its logprob), then the finish chunk, then usage.
            assertThat(chunks).hasSize(12 + 2);
            assertThat(chunks.subList(0, 12)).allSatisfy(c -> {
                assertThat(c.path("object").asText()).isEqualTo("text_completion");
                assertThat(c.path("choices").get(0).path("finish_reason").isNull()).isTrue();
                assertThat(c.path("choices").get(0).path("logprobs").path("tokens").size()).isEqualTo(1);
            });
            assertThat(chunks.get(12).path("choices").get(0).path("finish_reason").asText()).isEqualTo("length");
            assertThat(chunks.get(13).path("choices").size()).isZero();
            assertThat(chunks.get(13).path("usage").path("completion_tokens").asInt()).isEqualTo(12);
            assertThat(chunks.stream().map(c -> c.path("id").asText()).distinct()).hasSize(1);
        }
    }

    @Test
    void chatLogprobsListEachTokenWithItsAlternatives() throws Exception {
        try (TestServer server = TestServer.start(loaded, 1, 1, null)) {
            JsonNode answer = JSON.readTree(server.post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\","
                    + "\"content\":\"Hi\"}],\"max_tokens\":6,\"temperature\":0,\"logprobs\":true,\"top_logprobs\":2}").body());
            JsonNode choice = answer.path("choices").get(0);
            JsonNode content = choice.path("logprobs").path("content");
            assertThat(content.size()).isEqualTo(6);
            StringBuilder text = new StringBuilder();
            for (JsonNode token : content) {
                text.append(token.path("token").asText());
                assertThat(token.path("logprob").asDouble()).isNegative();
                assertThat(token.path("bytes").size()).isPositive();
                assertThat(token.path("top_logprobs").size()).isEqualTo(2);
                // greedy: the chosen token is the most likely one
                assertThat(token.path("top_logprobs").get(0).path("token").asText()).isEqualTo(token.path("token").asText());
            }
            assertThat(text.toString().strip()).isEqualTo(choice.path("message").path("content").asText().strip());
        }
    }

    @Test
    void badRequestsGetOpenAiErrorsWithTheRightStatusAndTheServerLivesOn() throws Exception {
        try (TestServer server = TestServer.start(loaded, 1, 1, null)) {
            assertError(server.post("/v1/chat/completions", "{\"messages\": [ {\"role\": "), 400, "not valid JSON");
            assertError(server.post("/v1/chat/completions", "[1,2]"), 400, "JSON object");
            assertError(server.post("/v1/chat/completions", "{}"), 400, "'messages'");
            assertError(server.post("/v1/chat/completions", "{\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}"), 400, "robot");
            assertError(server.post("/v1/completions", "{\"prompt\":\"Hi\",\"max_tokens\":-3}"), 400, "max_tokens");
            assertError(server.post("/v1/completions", "{\"prompt\":\"Hi\",\"top_p\":\"high\"}"), 400, "top_p");
            assertError(server.post("/v1/completions", "{\"prompt\":[1, 99999]}"), 400, "token id");
            assertError(server.post("/v1/completions", "{\"prompt\":\"Hi\",\"n\":3}"), 400, "'n'");
            assertError(server.post("/v1/completions", "{\"prompt\":\"" + "Once upon a time. ".repeat(100) + "\"}"), 400,
                    "a slot holds 256");
            assertError(server.post("/v1/completions", "{\"prompt\":\"" + "x".repeat(70 * 1024) + "\"}"), 400, "limit");
            assertError(server.get("/v1/nothing"), 404, "no route");
            assertError(server.get("/v1/completions"), 405, "POST");
            HttpResponse<String> ok = server.post("/v1/completions", "{\"prompt\":\"Hi\",\"max_tokens\":3}");
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(server.get("/health").body()).contains("\"ok\"");
            assertThat(server.metric("panllm_request_errors_total")).isEqualTo(12);
        }
    }

    private static void assertError(HttpResponse<String> response, int status, String message) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        JsonNode error = JSON.readTree(response.body()).path("error");
        assertThat(error.path("message").asText()).contains(message);
        assertThat(error.path("type").asText()).isNotEmpty();
        assertThat(error.has("param")).isTrue();
        assertThat(error.has("code")).isTrue();
    }

    @Test
    void withAnApiKeyEveryRouteButHealthNeedsTheBearer() throws Exception {
        try (TestServer server = TestServer.start(loaded, 1, 1, "s3cret")) {
            assertError(server.get("/v1/models"), 401, "missing API key");
            assertError(server.post("/v1/completions", "{\"prompt\":\"Hi\"}", "Authorization", "Bearer wrong"), 401, "invalid API key");
            assertThat(server.get("/health").statusCode()).isEqualTo(200);
            assertThat(server.post("/v1/completions", "{\"prompt\":\"Hi\",\"max_tokens\":2}", "Authorization", "Bearer s3cret")
                    .statusCode()).isEqualTo(200);
        }
    }

    @Test
    void pastTheQueueRequestsGet429WithRetryAfter() throws Exception {
        try (TestServer server = TestServer.start(loaded, TestServer.slowed(loaded.model(), 20), 1, 1, null)) {
            String slow = "{\"prompt\":\"Lily\",\"max_tokens\":100,\"ignore_eos\":true}";
            CompletableFuture<HttpResponse<String>> running = CompletableFuture.supplyAsync(() -> post(server, slow));
            waitFor(() -> server.metric("panllm_active_sequences") == 1);
            CompletableFuture<HttpResponse<String>> queued = CompletableFuture.supplyAsync(() -> post(server, slow));
            waitFor(() -> server.metric("panllm_queue_length") == 1);
            HttpResponse<String> refused = server.post("/v1/completions", slow);
            assertError(refused, 429, "busy");
            assertThat(refused.headers().firstValue("Retry-After")).contains("1");
            assertThat(running.get().statusCode()).isEqualTo(200);
            assertThat(queued.get().statusCode()).isEqualTo(200);
            assertThat(server.metric("panllm_requests_rejected_total")).isEqualTo(1);
        }
    }

    @Test
    void aClientThatDisconnectsCancelsItsRequestAndFreesTheSlot() throws Exception {
        // 20 ms per step: 200 tokens would take 4 s; cancellation must end it long before.
        try (TestServer server = TestServer.start(loaded, TestServer.slowed(loaded.model(), 20), 1, 0, null)) {
            for (boolean stream : new boolean[] {true, false}) {
                double before = server.metric("panllm_generated_tokens_total");
                String body = "{\"prompt\":\"Lily\",\"max_tokens\":200,\"ignore_eos\":true,\"stream\":" + stream + "}";
                try (Socket socket = new Socket("127.0.0.1", Integer.parseInt(server.base.substring(server.base.lastIndexOf(':') + 1)))) {
                    OutputStream out = socket.getOutputStream();
                    out.write(("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                            + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body)
                            .getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    if (stream) {
                        BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
                        String line;
                        while ((line = in.readLine()) != null && !line.startsWith("data: ")) {
                            // headers
                        }
                        assertThat(line).startsWith("data: ");
                    } else {
                        waitFor(() -> server.metric("panllm_generated_tokens_total") > before + 3);
                    }
                }
                long closed = System.nanoTime();
                waitFor(() -> server.metric("panllm_active_sequences") == 0);
                double seconds = (System.nanoTime() - closed) / 1e9;
                assertThat(seconds).as("stream=%s: slot freed after %.2f s", stream, seconds).isLessThan(1.0);
                assertThat(server.metric("panllm_generated_tokens_total") - before).as("stream=" + stream).isLessThan(100);
                // The freed slot takes the next request at once (the queue holds none: it would be a 429).
                assertThat(server.post("/v1/completions", "{\"prompt\":\"Hi\",\"max_tokens\":2}").statusCode()).isEqualTo(200);
            }
        }
    }

    @Test
    void drainingFinishesRunningStreamsAndRefusesNewRequests() throws Exception {
        TestServer server = TestServer.start(loaded, TestServer.slowed(loaded.model(), 10), 2, 2, null);
        String slow = "{\"prompt\":\"Lily\",\"max_tokens\":60,\"ignore_eos\":true,\"stream\":true}";
        CompletableFuture<HttpResponse<String>> running = CompletableFuture.supplyAsync(() -> post(server, slow));
        waitFor(() -> server.metric("panllm_generated_tokens_total") > 3);
        Thread drain = Thread.ofVirtual().start(() -> server.server.drainAndStop(java.time.Duration.ofSeconds(30)));
        waitFor(() -> server.get("/health").statusCode() == 503);
        assertError(server.post("/v1/completions", "{\"prompt\":\"Hi\",\"max_tokens\":2}"), 503, "shutting down");
        HttpResponse<String> finished = running.get();
        assertThat(finished.statusCode()).isEqualTo(200);
        assertThat(finished.body()).contains("\"finish_reason\":\"length\"").endsWith("data: [DONE]\n\n");
        drain.join(30_000);
        assertThat(drain.isAlive()).isFalse();
    }

    @Test
    void greedyAnswersEqualPanllmGenerateAlsoWith31OtherRequestsRunning() throws Exception {
        String prompt = "Once upon a time";
        io.panllm.tests.CliAccess.Result generated = io.panllm.tests.CliAccess.run("generate", "--device", "cpu",
                "-p", prompt, "-n", "48", "--temp", "0");
        assertThat(generated.exitCode()).isZero();
        String expected = generated.out().substring(prompt.length()).stripTrailing();
        String request = "{\"prompt\":\"" + prompt + "\",\"max_tokens\":48,\"temperature\":0}";
        try (TestServer server = TestServer.start(loaded, 32, 32, null)) {
            JsonNode alone = JSON.readTree(server.post("/v1/completions", request).body());
            assertThat(alone.path("choices").get(0).path("text").asText().stripTrailing()).isEqualTo(expected);

            ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor();
            List<Future<HttpResponse<String>>> others = new ArrayList<>();
            String[] starts = {"Lily", "The cat", "One day", "Tom", "She was"};
            for (int i = 0; i < 31; i++) {
                String other = "{\"prompt\":\"" + starts[i % starts.length] + "\",\"max_tokens\":" + (60 + i)
                        + ",\"ignore_eos\":true,\"temperature\":0.9,\"seed\":" + i + ",\"stream\":true}";
                others.add(clients.submit(() -> server.post("/v1/completions", other)));
            }
            waitFor(() -> server.metric("panllm_active_sequences") >= 20);
            JsonNode batched = JSON.readTree(server.post("/v1/completions", request).body());
            double batch = server.metric("panllm_batch_size");
            assertThat(batched.path("choices").get(0).path("text").asText().stripTrailing()).isEqualTo(expected);
            for (Future<HttpResponse<String>> other : others) {
                assertThat(other.get().statusCode()).isEqualTo(200);
            }
            clients.close();
            assertThat(batch).as("sequences in the batch while the request ran").isGreaterThan(1);
        }
    }

    private static HttpResponse<String> post(TestServer server, String body) {
        try {
            return server.post("/v1/completions", body);
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    interface Check {
        boolean ok() throws Exception;
    }

    private static void waitFor(Check check) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!check.ok()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 10 s");
            }
            Thread.sleep(5);
        }
    }
}
