package io.panllm.cli.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.panllm.runtime.chat.ChatTemplate;
import io.panllm.runtime.engine.Engine;
import io.panllm.runtime.engine.EngineBusyException;
import io.panllm.runtime.engine.Event;
import io.panllm.runtime.engine.FinishReason;
import io.panllm.runtime.engine.GenerationRequest;
import io.panllm.runtime.engine.Job;
import io.panllm.runtime.engine.PromptTooLongException;
import io.panllm.runtime.engine.TokenLogprob;
import io.panllm.runtime.tokenizer.Tokenizer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * {@code /v1/completions} and {@code /v1/chat/completions}: requests to engine jobs, events to
 * OpenAI's JSON (whole, or as server-sent-event chunks flushed per token).
 */
final class OpenAiApi {
    static final ObjectMapper JSON = new ObjectMapper();

    private final Engine engine;
    private final Tokenizer tokenizer;
    private final ChatTemplate template;
    private final String noTemplateReason;
    private final ServerSettings settings;
    private final Prompts prompts;
    private final TokenTexts tokenTexts;

    /** @param template the chat template, or null (then {@code noTemplateReason} says why chat is refused) */
    OpenAiApi(Engine engine, Tokenizer tokenizer, ChatTemplate template, String noTemplateReason, ServerSettings settings) {
        this.engine = engine;
        this.tokenizer = tokenizer;
        this.template = template;
        this.noTemplateReason = noTemplateReason;
        this.settings = settings;
        this.prompts = new Prompts(tokenizer, 64);
        this.tokenTexts = new TokenTexts(tokenizer);
    }

    /** The two endpoints differ in the prompt and the shape of a choice. */
    private enum Kind {
        TEXT("text_completion", "text_completion", "cmpl-"),
        CHAT("chat.completion", "chat.completion.chunk", "chatcmpl-");

        final String object;
        final String chunkObject;
        final String idPrefix;

        Kind(String object, String chunkObject, String idPrefix) {
            this.object = object;
            this.chunkObject = chunkObject;
            this.idPrefix = idPrefix;
        }
    }

    void completions(JsonNode body, Exchange exchange) throws IOException {
        Prompts.Batch batch = prompts.completion(body);
        int logprobs = (int) JsonFields.integer(body, "logprobs", -1, 0, 20);
        boolean echo = JsonFields.bool(body, "echo", false);
        ParsedRequest request = ParsedRequest.parse(body, batch.tokens(), batch.texts(), stopTokens(body, tokenizer.stopTokens()),
                logprobs, echo, settings);
        run(Kind.TEXT, request, exchange);
    }

    void chat(JsonNode body, Exchange exchange) throws IOException {
        if (template == null) {
            throw ApiException.invalid(noTemplateReason, "messages");
        }
        int[] prompt = prompts.chat(body, template);
        boolean logprobs = JsonFields.bool(body, "logprobs", false);
        int top = (int) JsonFields.integer(body, "top_logprobs", 0, 0, 20);
        if (top > 0 && !logprobs) {
            throw ApiException.invalid("'top_logprobs' needs 'logprobs': true", "top_logprobs");
        }
        ParsedRequest request = ParsedRequest.parse(body, List.of(prompt), List.of(""), stopTokens(body, template.stopTokens(tokenizer)),
                logprobs ? top : -1, false, settings);
        run(Kind.CHAT, request, exchange);
    }

    /** The end-of-text tokens, unless llama-server's {@code ignore_eos} asks to generate past them. */
    private static Set<Integer> stopTokens(JsonNode body, Set<Integer> stops) {
        return JsonFields.bool(body, "ignore_eos", false) ? Set.of() : stops;
    }

    private void run(Kind kind, ParsedRequest request, Exchange exchange) throws IOException {
        List<Job> jobs = submit(request);
        exchange.onDisconnect(() -> jobs.forEach(Job::cancel));
        String id = kind.idPrefix + UUID.randomUUID().toString().replace("-", "");
        long created = System.currentTimeMillis() / 1000;
        try {
            if (request.stream()) {
                stream(kind, id, created, request, jobs.getFirst(), exchange);
            } else {
                whole(kind, id, created, request, jobs, exchange);
            }
        } finally {
            jobs.forEach(Job::cancel); // a no-op for finished jobs; frees the slot if writing failed
        }
    }

    private List<Job> submit(ParsedRequest request) {
        List<Job> jobs = new ArrayList<>();
        try {
            for (int[] prompt : request.prompts()) {
                jobs.add(engine.submit(new GenerationRequest(prompt, request.sampler(), request.maxTokens(),
                        request.stopTokens(), request.stopStrings(), request.logprobs(), request.echo())));
            }
            return jobs;
        } catch (RuntimeException e) {
            jobs.forEach(Job::cancel);
            if (e instanceof PromptTooLongException) {
                throw ApiException.invalid(e.getMessage(), "prompt");
            }
            if (e instanceof EngineBusyException busy) {
                throw busy.shuttingDown()
                        ? new ApiException(503, "server_error", e.getMessage(), null, "shutting_down", 5)
                        : new ApiException(429, "rate_limit_error", e.getMessage(), null, "queue_full", 1);
            }
            if (e instanceof IllegalArgumentException) {
                throw ApiException.invalid(e.getMessage(), null);
            }
            throw e;
        }
    }

    /** One job's events gathered for a whole answer. */
    private static final class Gathered {
        final StringBuilder text = new StringBuilder();
        final List<TokenLogprob> logprobs = new ArrayList<>();
        Event.PromptLogprobs echo;
        Event.Finished finished;
    }

    private Gathered gather(Job job) throws IOException {
        Gathered out = new Gathered();
        while (true) {
            Event event = next(job);
            switch (event) {
                case Event.Token t -> {
                    out.text.append(t.text());
                    if (t.logprob() != null) {
                        out.logprobs.add(t.logprob());
                    }
                }
                case Event.PromptLogprobs p -> out.echo = p;
                case Event.Finished f -> {
                    out.text.append(f.trailingText());
                    out.finished = f;
                    return out;
                }
                case Event.Failed f -> throw failure(f);
            }
        }
    }

    private static Event next(Job job) throws IOException {
        try {
            return job.next();
        } catch (InterruptedException e) {
            job.cancel();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
    }

    private static ApiException failure(Event.Failed failed) {
        return failed.shuttingDown()
                ? new ApiException(503, "server_error", failed.message(), null, "shutting_down", 5)
                : new ApiException(500, "server_error", "generation failed: " + failed.message(), null, null, 0);
    }

    private void whole(Kind kind, String id, long created, ParsedRequest request, List<Job> jobs, Exchange exchange)
            throws IOException {
        ArrayNode choices = JSON.createArrayNode();
        int promptTokens = 0;
        int completionTokens = 0;
        for (int i = 0; i < jobs.size(); i++) {
            Gathered g = gather(jobs.get(i));
            if (g.finished.reason() == FinishReason.CANCELLED) {
                return; // the client went away: nobody to answer
            }
            promptTokens += g.finished.promptTokens();
            completionTokens += g.finished.completionTokens();
            ObjectNode choice = choices.addObject().put("index", i);
            if (kind == Kind.CHAT) {
                choice.putObject("message").put("role", "assistant").put("content", g.text.toString());
                choice.set("logprobs", request.logprobs() >= 0 ? chatLogprobs(g.logprobs) : null);
            } else {
                String prefix = request.echo() ? request.promptTexts().get(i) : "";
                choice.put("text", prefix + g.text);
                List<TokenLogprob> all = new ArrayList<>();
                if (g.echo != null) {
                    all.addAll(g.echo.tokens());
                }
                all.addAll(g.logprobs);
                choice.set("logprobs", request.logprobs() >= 0 ? textLogprobs(all, 0) : null);
            }
            choice.put("finish_reason", finishReason(g.finished.reason()));
        }
        ObjectNode answer = envelope(kind.object, id, created);
        answer.set("choices", choices);
        answer.set("usage", usage(promptTokens, completionTokens));
        exchange.sendJson(200, answer);
    }

    private void stream(Kind kind, String id, long created, ParsedRequest request, Job job, Exchange exchange)
            throws IOException {
        exchange.startEvents();
        if (kind == Kind.CHAT) {
            ObjectNode first = chunk(kind, id, created);
            first.withArray("choices").addObject().put("index", 0)
                    .<ObjectNode>set("delta", JSON.createObjectNode().put("role", "assistant").put("content", ""))
                    .putNull("logprobs").putNull("finish_reason");
            exchange.sendEvent(first.toString());
        }
        int textOffset = 0;
        while (true) {
            Event event = next(job);
            switch (event) {
                case Event.PromptLogprobs p -> {
                    String echoed = request.promptTexts().getFirst();
                    ObjectNode c = textChunk(kind, id, created, echoed,
                            request.logprobs() >= 0 ? textLogprobs(p.tokens(), 0) : null);
                    exchange.sendEvent(c.toString());
                    textOffset = echoed.length();
                }
                case Event.Token t -> {
                    if (t.text().isEmpty() && t.logprob() == null) {
                        continue; // held back (a possible stop string, half a character): nothing to show yet
                    }
                    JsonNode logprobs = t.logprob() == null ? null
                            : kind == Kind.CHAT ? chatLogprobs(List.of(t.logprob())) : textLogprobs(List.of(t.logprob()), textOffset);
                    exchange.sendEvent(textChunk(kind, id, created, t.text(), logprobs).toString());
                    textOffset += t.text().length();
                }
                case Event.Failed f -> {
                    ApiException e = failure(f);
                    exchange.sendEvent(errorBody(e).toString());
                    exchange.sendEvent("[DONE]");
                    return;
                }
                case Event.Finished f -> {
                    if (f.reason() == FinishReason.CANCELLED) {
                        return;
                    }
                    if (!f.trailingText().isEmpty()) {
                        exchange.sendEvent(textChunk(kind, id, created, f.trailingText(), null).toString());
                    }
                    ObjectNode last = textChunk(kind, id, created, null, null);
                    ((ObjectNode) last.withArray("choices").get(0)).put("finish_reason", finishReason(f.reason()));
                    exchange.sendEvent(last.toString());
                    if (request.includeUsage()) {
                        ObjectNode usage = chunk(kind, id, created);
                        usage.putArray("choices");
                        usage.set("usage", usage(f.promptTokens(), f.completionTokens()));
                        exchange.sendEvent(usage.toString());
                    }
                    exchange.sendEvent("[DONE]");
                    return;
                }
            }
        }
    }

    private ObjectNode envelope(String object, String id, long created) {
        return JSON.createObjectNode().put("id", id).put("object", object).put("created", created)
                .put("model", settings.modelName()).put("system_fingerprint", "panllm");
    }

    private ObjectNode chunk(Kind kind, String id, long created) {
        ObjectNode chunk = envelope(kind.chunkObject, id, created);
        chunk.putNull("usage");
        return chunk;
    }

    /** A chunk with one choice carrying {@code text} (null: an empty delta, for the finishing chunk). */
    private ObjectNode textChunk(Kind kind, String id, long created, String text, JsonNode logprobs) {
        ObjectNode chunk = chunk(kind, id, created);
        ObjectNode choice = chunk.putArray("choices").addObject().put("index", 0);
        if (kind == Kind.CHAT) {
            ObjectNode delta = choice.putObject("delta");
            if (text != null) {
                delta.put("content", text);
            }
        } else {
            choice.put("text", text == null ? "" : text);
        }
        choice.set("logprobs", logprobs);
        choice.putNull("finish_reason");
        return chunk;
    }

    private static ObjectNode usage(int prompt, int completion) {
        return JSON.createObjectNode().put("prompt_tokens", prompt).put("completion_tokens", completion)
                .put("total_tokens", prompt + completion);
    }

    private static String finishReason(FinishReason reason) {
        return reason == FinishReason.STOP ? "stop" : "length";
    }

    /** The completions endpoint's logprobs: parallel arrays, offsets into the choice's text. */
    private ObjectNode textLogprobs(List<TokenLogprob> tokens, int startOffset) {
        ObjectNode out = JSON.createObjectNode();
        ArrayNode texts = out.putArray("tokens");
        ArrayNode logprobs = out.putArray("token_logprobs");
        ArrayNode tops = out.putArray("top_logprobs");
        ArrayNode offsets = out.putArray("text_offset");
        int offset = startOffset;
        for (TokenLogprob t : tokens) {
            String text = tokenTexts.text(t.token());
            texts.add(text);
            if (Float.isNaN(t.logprob())) {
                logprobs.addNull();
                tops.addNull();
            } else {
                logprobs.add(t.logprob());
                ObjectNode top = tops.addObject();
                for (TokenLogprob.Alternative a : t.top()) {
                    top.put(tokenTexts.text(a.token()), a.logprob());
                }
            }
            offsets.add(offset);
            offset += text.length();
        }
        return out;
    }

    /** The chat endpoint's logprobs: one object per token. */
    private ObjectNode chatLogprobs(List<TokenLogprob> tokens) {
        ObjectNode out = JSON.createObjectNode();
        ArrayNode content = out.putArray("content");
        for (TokenLogprob t : tokens) {
            ObjectNode entry = tokenEntry(t.token(), t.logprob());
            ArrayNode top = entry.putArray("top_logprobs");
            for (TokenLogprob.Alternative a : t.top()) {
                top.add(tokenEntry(a.token(), a.logprob()));
            }
            content.add(entry);
        }
        out.putNull("refusal");
        return out;
    }

    private ObjectNode tokenEntry(int token, float logprob) {
        ObjectNode entry = JSON.createObjectNode().put("token", tokenTexts.text(token)).put("logprob", logprob);
        ArrayNode bytes = entry.putArray("bytes");
        for (byte b : tokenTexts.bytes(token)) {
            bytes.add(b & 0xff);
        }
        return entry;
    }

    static ObjectNode errorBody(ApiException e) {
        ObjectNode body = JSON.createObjectNode();
        body.putObject("error").put("message", e.getMessage()).put("type", e.type).put("param", e.param)
                .put("code", e.code);
        return body;
    }

    static Set<String> routes() {
        return Set.of("/v1/completions", "/v1/chat/completions", "/v1/models", "/health", "/metrics");
    }
}
