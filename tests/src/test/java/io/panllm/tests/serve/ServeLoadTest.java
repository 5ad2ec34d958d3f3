package io.panllm.tests.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.panllm.runtime.LoadedModel;
import io.panllm.runtime.Session;
import io.panllm.runtime.generate.GenerationOptions;
import io.panllm.runtime.generate.GenerationResult;
import io.panllm.runtime.generate.Generator;
import io.panllm.runtime.generate.Sampler;
import io.panllm.runtime.generate.SamplerConfig;
import io.panllm.runtime.generate.TokenListener;
import io.panllm.runtime.generate.TokenizerTextStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * 64 streaming clients against one server for a while (10 s in CI; {@code bin/serve-load} runs
 * it longer): every stream must be exactly its prompt's greedy continuation, computed beforehand
 * without the server (no token lost, duplicated or taken from another stream), and the time to
 * first token and between tokens is printed as p50/p99.
 */
class ServeLoadTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] PROMPTS = {"Once upon a time", "Lily", "The cat", "One day, a big", "Tom and Sam went",
            "She was happy", "The sun", "A little boy", "The dog ran", "Mom said", "In the park", "Ben wanted",
            "The bird", "There was a", "Sue had a", "The car"};
    private static final int MAX_TOKENS = 32;

    @Test
    void concurrentStreamsGetExactlyTheirOwnTokens() throws Exception {
        int clients = Integer.getInteger("panllm.serve.load.clients", 64);
        long seconds = Long.getLong("panllm.serve.load.seconds", 10);
        try (LoadedModel loaded = TestServer.loadStories()) {
            List<String> expected = new ArrayList<>();
            List<Integer> expectedTokens = new ArrayList<>();
            for (String prompt : PROMPTS) {
                GenerationResult reference = reference(loaded, prompt);
                expected.add(reference.text());
                expectedTokens.add(reference.generatedTokens() - (reference.reason().name().equals("STOP_TOKEN") ? 1 : 0));
            }
            System.gc();
            long heapBefore = usedHeap();
            List<Long> firstTokenNanos = Collections.synchronizedList(new ArrayList<>());
            List<Long> betweenTokenNanos = Collections.synchronizedList(new ArrayList<>());
            AtomicLong streams = new AtomicLong();
            AtomicLong tokens = new AtomicLong();
            long start = System.nanoTime();
            long end = start + seconds * 1_000_000_000L;
            try (TestServer server = TestServer.start(loaded, clients, clients, null);
                 ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<?>> running = new ArrayList<>();
                for (int c = 0; c < clients; c++) {
                    int client = c;
                    running.add(pool.submit(() -> {
                        for (int round = 0; System.nanoTime() < end; round++) {
                            int p = (client + round) % PROMPTS.length;
                            Stream s = stream(server, PROMPTS[p]);
                            assertThat(s.text).as("stream of '%s'", PROMPTS[p]).isEqualTo(expected.get(p));
                            assertThat(s.tokens).as("tokens of '%s'", PROMPTS[p]).isEqualTo(expectedTokens.get(p))
                                    .isEqualTo(s.usageTokens);
                            firstTokenNanos.add(s.firstToken);
                            betweenTokenNanos.addAll(s.gaps);
                            streams.incrementAndGet();
                            tokens.addAndGet(s.tokens);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : running) {
                    f.get();
                }
                assertThat(server.metric("panllm_active_sequences")).isZero();
            }
            double elapsed = (System.nanoTime() - start) / 1e9;
            System.gc();
            long heapGrowth = usedHeap() - heapBefore;
            System.out.printf(Locale.ROOT, "serve load: %d clients, %.1f s, %d streams, %d tokens (%.0f tok/s); "
                            + "TTFT p50 %.1f ms p99 %.1f ms; inter-token p50 %.2f ms p99 %.2f ms; heap growth %d MiB%n",
                    clients, elapsed, streams.get(), tokens.get(), tokens.get() / elapsed,
                    percentile(firstTokenNanos, 50), percentile(firstTokenNanos, 99),
                    percentile(betweenTokenNanos, 50), percentile(betweenTokenNanos, 99), heapGrowth >> 20);
            assertThat(streams.get()).isGreaterThanOrEqualTo(clients);
            assertThat(heapGrowth).as("heap growth after the run").isLessThan(256L << 20);
        }
    }

    private static GenerationResult reference(LoadedModel loaded, String prompt) {
        try (Session session = loaded.model().newSession(256)) {
            Generator generator = new Generator(Sampler.create(SamplerConfig.greedy(), loaded.model().vocabSize()),
                    () -> new TokenizerTextStream(loaded.tokenizer()));
            return generator.generate(session, loaded.tokenizer().encode(prompt, true, false),
                    new GenerationOptions(MAX_TOKENS, loaded.tokenizer().stopTokens()), TokenListener.NONE);
        }
    }

    /** One streamed completion as a client sees it. */
    private static final class Stream {
        final StringBuilder textBuilder = new StringBuilder();
        String text;
        int tokens;
        int usageTokens = -1;
        long firstToken;
        final List<Long> gaps = new ArrayList<>();
    }

    private static Stream stream(TestServer server, String prompt) throws Exception {
        String body = "{\"prompt\":" + JSON.writeValueAsString(prompt) + ",\"max_tokens\":" + MAX_TOKENS
                + ",\"temperature\":0,\"logprobs\":0,\"stream\":true,\"stream_options\":{\"include_usage\":true}}";
        HttpRequest request = HttpRequest.newBuilder(URI.create(server.base + "/v1/completions"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json").build();
        long sent = System.nanoTime();
        HttpResponse<java.util.stream.Stream<String>> response = TestServer.HTTP.send(request, HttpResponse.BodyHandlers.ofLines());
        assertThat(response.statusCode()).isEqualTo(200);
        Stream s = new Stream();
        long last = 0;
        boolean done = false;
        try (java.util.stream.Stream<String> lines = response.body()) {
            Iterator<String> it = lines.iterator();
            while (it.hasNext()) {
                String line = it.next();
                if (line.isEmpty()) {
                    continue;
                }
                assertThat(line).startsWith("data: ");
                String data = line.substring(6);
                if (data.equals("[DONE]")) {
                    done = true;
                    continue;
                }
                JsonNode chunk = JSON.readTree(data);
                if (chunk.path("usage").isObject()) {
                    s.usageTokens = chunk.path("usage").path("completion_tokens").asInt();
                }
                for (JsonNode choice : chunk.path("choices")) {
                    s.textBuilder.append(choice.path("text").asText());
                    if (choice.path("logprobs").isObject()) { // exactly the token chunks carry logprobs
                        long now = System.nanoTime();
                        if (s.tokens == 0) {
                            s.firstToken = now - sent;
                        } else {
                            s.gaps.add(now - last);
                        }
                        last = now;
                        s.tokens += choice.path("logprobs").path("tokens").size();
                    }
                }
            }
        }
        assertThat(done).as("stream ends with [DONE]").isTrue();
        s.text = s.textBuilder.toString();
        return s;
    }

    private static double percentile(List<Long> nanos, int p) {
        List<Long> sorted = new ArrayList<>(nanos);
        Collections.sort(sorted);
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int index = (int) Math.min(sorted.size() - 1, Math.ceil(p / 100.0 * sorted.size()) - 1);
        return sorted.get(Math.max(0, index)) / 1e6;
    }

    private static long usedHeap() {
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }
}
