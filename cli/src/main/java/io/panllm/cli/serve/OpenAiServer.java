package io.panllm.cli.serve;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.panllm.runtime.chat.ChatTemplate;
import io.panllm.runtime.engine.Engine;
import io.panllm.runtime.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.eclipse.jetty.util.BufferUtil;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The HTTP side of {@code panllm serve}, on Jetty 12's core server: each request runs on its own
 * virtual thread, which blocks on the engine's events and writes each token as it comes (Jetty
 * flushes every write), and learns of a client that went away from a failed write or Jetty's
 * failure listener, then cancels the engine job so its slot is free at the next step.
 */
public final class OpenAiServer implements AutoCloseable {
    private final Engine engine;
    private final ServerSettings settings;
    private final OpenAiApi api;
    private final Metrics metrics = new Metrics();
    private final Server server;
    private final ServerConnector connector;
    private final AtomicBoolean draining = new AtomicBoolean();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final byte[] apiKey;

    /**
     * @param template the chat template, or null: then {@code /v1/chat/completions} answers 400
     *                 with {@code noTemplateReason}
     */
    public OpenAiServer(Engine engine, Tokenizer tokenizer, ChatTemplate template, String noTemplateReason,
                        ServerSettings settings) {
        this.engine = engine;
        this.settings = settings;
        this.api = new OpenAiApi(engine, tokenizer, template, noTemplateReason, settings);
        this.apiKey = settings.apiKey() == null ? null : settings.apiKey().getBytes(StandardCharsets.UTF_8);
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("panllm-http");
        threads.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
        connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost(settings.host());
        connector.setPort(settings.port());
        connector.setIdleTimeout(settings.idleTimeout().toMillis());
        server.addConnector(connector);
        server.setHandler(new ApiHandler());
        server.setStopTimeout(5000);
    }

    /** Binds and starts answering. */
    public void start() throws Exception {
        server.start();
    }

    /** The port it listens on (the one picked when asked for 0). */
    public int port() {
        return connector.getLocalPort();
    }

    /**
     * Graceful stop: new requests get 503, running ones finish (up to {@code timeout}), then the
     * server closes. The engine is drained and closed too; the model stays the caller's.
     */
    public void drainAndStop(Duration timeout) {
        draining.set(true);
        long deadline = System.nanoTime() + timeout.toNanos();
        engine.drainAndClose(timeout);
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20); // the handlers write the last events of their streams
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        close();
    }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            // stopping anyway; nothing to tell the client
        }
        engine.close();
    }

    private final class ApiHandler extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            inFlight.incrementAndGet();
            metrics.httpRequests.incrementAndGet();
            JettyExchange exchange = new JettyExchange(request, response);
            try {
                route(request, exchange);
            } catch (ApiException e) {
                answerError(exchange, e);
            } catch (IOException e) {
                // the client went away; its job was cancelled
            } catch (RuntimeException e) {
                answerError(exchange, new ApiException(500, "server_error", "internal error: " + e, null, null, 0));
            } finally {
                inFlight.decrementAndGet();
                exchange.complete(callback);
            }
            return true;
        }

        private void route(Request request, JettyExchange exchange) throws IOException {
            String path = Request.getPathInContext(request);
            String method = request.getMethod();
            if (!path.equals("/health")) {
                authorize(request);
            }
            switch (path) {
                case "/health" -> {
                    requireMethod(method, "GET");
                    exchange.sendJson(draining.get() ? 503 : 200, OpenAiApi.JSON.createObjectNode()
                            .put("status", draining.get() ? "shutting down" : "ok"));
                }
                case "/v1/models" -> {
                    requireMethod(method, "GET");
                    ObjectNode models = OpenAiApi.JSON.createObjectNode().put("object", "list");
                    models.putArray("data").addObject().put("id", settings.modelName()).put("object", "model")
                            .put("created", 0).put("owned_by", "panllm");
                    exchange.sendJson(200, models);
                }
                case "/metrics" -> {
                    requireMethod(method, "GET");
                    exchange.sendText(200, "text/plain; version=0.0.4; charset=utf-8", metrics.render(engine.stats()));
                }
                case "/v1/completions" -> {
                    requireMethod(method, "POST");
                    api.completions(readJson(request), exchange);
                }
                case "/v1/chat/completions" -> {
                    requireMethod(method, "POST");
                    api.chat(readJson(request), exchange);
                }
                default -> throw ApiException.notFound("no route " + method + " " + path + " (see "
                        + String.join(", ", OpenAiApi.routes()) + ")");
            }
        }

        private void authorize(Request request) {
            if (apiKey == null) {
                return;
            }
            String header = request.getHeaders().get(HttpHeader.AUTHORIZATION);
            byte[] given = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)
                    ? header.substring(7).trim().getBytes(StandardCharsets.UTF_8) : new byte[0];
            if (!MessageDigest.isEqual(given, apiKey)) {
                throw new ApiException(401, "invalid_request_error",
                        header == null ? "missing API key: send 'Authorization: Bearer <key>'" : "invalid API key",
                        null, "invalid_api_key", 0);
            }
        }

        private static void requireMethod(String method, String allowed) {
            if (!method.equals(allowed)) {
                throw new ApiException(405, "invalid_request_error", "use " + allowed + " here, not " + method,
                        null, "method_not_allowed", 0);
            }
        }

        private JsonNode readJson(Request request) throws IOException {
            long declared = request.getLength();
            int limit = settings.maxBodyBytes();
            if (declared > limit) {
                throw ApiException.invalid("the request body has " + declared + " bytes; the limit is " + limit, null);
            }
            byte[] body;
            try (InputStream in = Content.Source.asInputStream(request)) {
                body = in.readNBytes(limit + 1);
            }
            if (body.length > limit) {
                throw ApiException.invalid("the request body is larger than the limit of " + limit + " bytes", null);
            }
            JsonNode json;
            try {
                json = OpenAiApi.JSON.readTree(body);
            } catch (JacksonException e) {
                throw ApiException.invalid("the body is not valid JSON: " + e.getOriginalMessage(), null);
            }
            if (json == null || !json.isObject()) {
                throw ApiException.invalid("the body must be a JSON object", null);
            }
            return json;
        }

        private void answerError(JettyExchange exchange, ApiException e) {
            if (e.status == 429 || e.status == 503) {
                metrics.rejected.incrementAndGet();
            }
            metrics.errors.incrementAndGet();
            if (exchange.committed()) {
                return; // a stream already started: its error went out as an event, or the client is gone
            }
            try {
                if (e.retryAfter > 0) {
                    exchange.response.getHeaders().put(HttpHeader.RETRY_AFTER, Integer.toString(e.retryAfter));
                }
                if (e.status == 401) {
                    exchange.response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer");
                }
                exchange.sendJson(e.status, OpenAiApi.errorBody(e));
            } catch (IOException gone) {
                // the client went away
            }
        }
    }

    /** {@link Exchange} over a Jetty request/response pair, writing through a blocking stream. */
    private static final class JettyExchange implements Exchange {
        final Request request;
        final Response response;
        private OutputStream out;

        JettyExchange(Request request, Response response) {
            this.request = request;
            this.response = response;
        }

        boolean committed() {
            return out != null || response.isCommitted();
        }

        @Override
        public void sendJson(int status, JsonNode body) throws IOException {
            sendText(status, "application/json", body.toString());
        }

        void sendText(int status, String contentType, String text) throws IOException {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            response.setStatus(status);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, Long.toString(bytes.length));
            out = Content.Sink.asOutputStream(response);
            out.write(bytes);
        }

        @Override
        public void startEvents() throws IOException {
            response.setStatus(200);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream; charset=utf-8");
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
            response.getHeaders().put("X-Accel-Buffering", "no");
            out = Content.Sink.asOutputStream(response);
            out.flush(); // the headers go out now: the client sees the stream open before the first token
        }

        @Override
        public void sendEvent(String data) throws IOException {
            out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        /**
         * Jetty reads nothing from an HTTP/1.1 connection while its request is being handled, so a
         * client that closes it goes unnoticed until a write fails (never, for a non-streamed answer
         * or a request waiting in the queue). So the exchange asks to be told when the connection
         * becomes readable: a client that sent its request and waits sends nothing more, so
         * readable means closed (read gives -1). The answer then carries "Connection: close", as
         * the connection's next read belongs to this watch; a client opens a new connection for its
         * next request (microseconds on the loopback, nothing beside a generation).
         */
        @Override
        public void onDisconnect(Runnable action) {
            AtomicBoolean ran = new AtomicBoolean();
            Runnable once = () -> {
                if (!ran.getAndSet(true)) {
                    action.run();
                }
            };
            request.addFailureListener(failure -> once.run());
            response.getHeaders().put(HttpHeader.CONNECTION, "close");
            watch(request.getConnectionMetaData().getConnection().getEndPoint(), once);
        }

        private static void watch(EndPoint endPoint, Runnable onClosed) {
            endPoint.tryFillInterested(Callback.from(() -> {
                try {
                    int read = endPoint.fill(BufferUtil.allocate(64)); // Jetty fills after the limit: an empty buffer in flush mode
                    if (read < 0) {
                        onClosed.run();
                    } else if (read == 0) {
                        watch(endPoint, onClosed); // woken without data: keep watching
                    }
                    // read > 0: a pipelined request; it is dropped with the connection after this answer
                } catch (IOException e) {
                    onClosed.run();
                }
            }, failure -> onClosed.run()));
        }

        /** Ends the response (the last chunk of a stream) and tells Jetty the request is done. */
        void complete(Callback callback) {
            try {
                if (out != null) {
                    out.close();
                }
                callback.succeeded();
            } catch (IOException | RuntimeException e) {
                callback.failed(e);
            }
        }
    }
}
