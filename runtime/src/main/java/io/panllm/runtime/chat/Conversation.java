package io.panllm.runtime.chat;

import io.panllm.runtime.LanguageModel;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * A chat kept in one session's KV cache: each turn feeds only the new user message (rendered by
 * the chat template as a continuation of what the cache holds), never the whole history again.
 */
public final class Conversation implements AutoCloseable {
    private final LanguageModel model;
    private final Tokenizer tokenizer;
    private final ChatTemplate template;
    private final Session session;
    private final Set<Integer> stopTokens;
    private final List<ChatMessage> history = new ArrayList<>();
    private String systemPrompt;
    private SamplerConfig samplerConfig;
    private Sampler sampler;
    private int maxTokens = -1;
    /** Tokens the cache still lacks from the last reply: its final sampled token, and an end of turn if it was cut short. */
    private int[] carryOver = new int[0];
    private GenerationResult lastReply;
    private int promptTokensTotal;
    private int generatedTokensTotal;
    private int turnsDropped;

    public Conversation(LanguageModel model, Tokenizer tokenizer, ChatTemplate template, int contextSize,
                        SamplerConfig samplerConfig, String systemPrompt) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.template = template;
        this.session = model.newSession(contextSize);
        this.stopTokens = template.stopTokens(tokenizer);
        this.systemPrompt = systemPrompt;
        setSampler(samplerConfig);
    }

    public void setSampler(SamplerConfig config) {
        this.samplerConfig = config;
        this.sampler = Sampler.create(config, model.vocabSize());
    }

    public SamplerConfig samplerConfig() {
        return samplerConfig;
    }

    public long seed() {
        return sampler.seed();
    }

    /** The most tokens per reply; negative: until end of turn or a full context. */
    public void setMaxTokens(int maxTokens) {
        this.maxTokens = maxTokens;
    }

    public int maxTokens() {
        return maxTokens;
    }

    /**
     * Adds the user's message and generates the reply, streaming it to {@code listener}.
     * When the message and room for a reply do not fit in what is left of the context, the
     * oldest turns are dropped (the system prompt stays) and what remains is evaluated again from
     * an empty cache, as llama.cpp's chat keeps going when its context is full; {@link #turnsDropped}
     * counts them. A reply that fills the context goes on the same way (older turns dropped, the
     * reply so far kept); with no turn left to drop it stops with {@link StopReason#CONTEXT_FULL}.
     *
     * @throws MessageTooLongException if the message with the system prompt alone fills the context
     */
    public GenerationResult reply(String userText, TokenListener listener, BooleanSupplier cancelled) {
        ChatMessage user = ChatMessage.user(userText);
        boolean fresh = history.isEmpty() || (history.size() == 1 && history.getFirst().role().equals(ChatMessage.SYSTEM)
                && session.position() == 0);
        int[] prompt = fresh ? null : nextTurn(user);
        if (prompt == null) {
            prompt = startOver(fresh ? List.of() : turnsSoFar(), user, "");
        }
        Generator generator = new Generator(sampler, () -> new TokenizerTextStream(tokenizer));
        GenerationResult result = generator.generate(session, prompt, new GenerationOptions(maxTokens, stopTokens), listener, cancelled);
        boolean lastTokenInCache = false;
        while (result.reason() == StopReason.CONTEXT_FULL && !cancelled.getAsBoolean() && !turnsSoFar().isEmpty()) {
            int[] again = startOver(turnsSoFar(), user, result.text());
            int left = maxTokens < 0 ? -1 : maxTokens - result.generatedTokens();
            if (again == null || left == 0) {
                break;
            }
            GenerationResult more = generator.generate(session, again, new GenerationOptions(left, stopTokens), listener, cancelled);
            lastTokenInCache = more.generatedTokens() == 0; // the reply so far went in as text, its last token too
            result = joined(result, more);
        }
        history.add(user);
        history.add(ChatMessage.assistant(result.text()));
        carryOver = carryOverAfter(result, lastTokenInCache);
        lastReply = result;
        promptTokensTotal += result.promptTokens();
        generatedTokensTotal += result.generatedTokens();
        return result;
    }

    /**
     * The tokens that extend the cache by the new message (the carried-over end of the last reply
     * first), or null when the conversation must be evaluated again from the start: the turn and
     * room for a reply do not fit, or the template renders past turns differently once there is a
     * next one (Qwen3 and DeepSeek-R1 drop the reasoning of earlier replies), so the cache cannot
     * be extended.
     */
    private int[] nextTurn(ChatMessage user) {
        String text;
        try {
            text = template.renderNext(history, user);
        } catch (IllegalStateException e) {
            return null;
        }
        int[] turn = tokenizer.encode(text, false, true);
        int[] prompt = new int[carryOver.length + turn.length];
        System.arraycopy(carryOver, 0, prompt, 0, carryOver.length);
        System.arraycopy(turn, 0, prompt, carryOver.length, turn.length);
        return session.position() + prompt.length + replyReserve() > session.capacity() ? null : prompt;
    }

    /**
     * Empties the cache and returns the tokens of the system prompt, {@code turns}, the new
     * message and the reply so far, dropping the oldest turns (a user message and its reply at a
     * time) until they and room for a reply fit; the history becomes the system prompt and the turns
     * kept. Null, with nothing changed, when a reply under way cannot go on.
     *
     * @throws MessageTooLongException if the message with no reply yet cannot fit
     */
    private int[] startOver(List<ChatMessage> turns, ChatMessage user, String replySoFar) {
        List<ChatMessage> system = systemPrompt != null && !systemPrompt.isBlank()
                ? List.of(ChatMessage.system(systemPrompt)) : List.of();
        List<ChatMessage> kept = new ArrayList<>(turns);
        while (true) {
            List<ChatMessage> all = new ArrayList<>(system);
            all.addAll(kept);
            all.add(user);
            int[] tokens = tokenizer.encode(template.render(all, true) + replySoFar, tokenizer.vocabulary().addBos(), true);
            boolean fits = tokens.length + replyReserve() <= session.capacity();
            if (fits || kept.isEmpty()) {
                if (tokens.length >= session.capacity() && !replySoFar.isEmpty()) {
                    return null;
                }
                if (tokens.length >= session.capacity()) {
                    int alone = tokenizer.encode(user.content(), false, false).length;
                    throw new MessageTooLongException(alone, tokens.length, session.capacity());
                }
                turnsDropped += (turns.size() - kept.size()) / 2;
                session.rewind(0);
                carryOver = new int[0];
                history.clear();
                history.addAll(system);
                history.addAll(kept);
                return tokens;
            }
            kept.subList(0, Math.min(2, kept.size())).clear();
        }
    }

    /** A reply cut by a full context followed by its continuation, as one. */
    private static GenerationResult joined(GenerationResult first, GenerationResult more) {
        int[] tokens = new int[first.tokens().length + more.tokens().length];
        System.arraycopy(first.tokens(), 0, tokens, 0, first.tokens().length);
        System.arraycopy(more.tokens(), 0, tokens, first.tokens().length, more.tokens().length);
        return new GenerationResult(tokens, first.text() + more.text(), more.reason(), first.promptTokens() + more.promptTokens(),
                first.promptNanos() + more.promptNanos(), first.generationNanos() + more.generationNanos());
    }

    /** The history without the system prompt: user messages and replies, alternating. */
    private List<ChatMessage> turnsSoFar() {
        return history.stream().filter(m -> !m.role().equals(ChatMessage.SYSTEM)).toList();
    }

    /**
     * Positions kept free for the reply when deciding to drop turns: the token limit if one is set
     * (at most half the context), else a quarter of the context.
     */
    private int replyReserve() {
        int capacity = session.capacity();
        return maxTokens > 0 ? Math.min(maxTokens, capacity / 2) : capacity / 4;
    }

    /** Turns (a message and its reply) dropped so far to make room in the context. */
    public int turnsDropped() {
        return turnsDropped;
    }

    /** The last sampled token is not in the cache yet; a reply cut short also needs its end-of-turn token. */
    private int[] carryOverAfter(GenerationResult result, boolean lastTokenInCache) {
        int[] pending = lastTokenInCache ? new int[0] : result.pendingToken().stream().toArray();
        if (result.reason() == StopReason.STOP_TOKEN || template.endOfTurnTexts().isEmpty()) {
            return pending;
        }
        int[] end = tokenizer.encode(template.endOfTurnTexts().getFirst(), false, true);
        int[] all = new int[pending.length + end.length];
        System.arraycopy(pending, 0, all, 0, pending.length);
        System.arraycopy(end, 0, all, pending.length, end.length);
        return all;
    }

    /** Forgets the conversation (the system prompt stays). */
    public void reset() {
        history.clear();
        session.rewind(0);
        carryOver = new int[0];
        sampler.resetHistory();
    }

    public void setSystemPrompt(String system) {
        this.systemPrompt = system;
        reset();
    }

    public String systemPrompt() {
        return systemPrompt;
    }

    public List<ChatMessage> history() {
        return List.copyOf(history);
    }

    public int contextUsed() {
        return session.position();
    }

    public int contextSize() {
        return session.capacity();
    }

    public GenerationResult lastReply() {
        return lastReply;
    }

    public int promptTokensTotal() {
        return promptTokensTotal;
    }

    public int generatedTokensTotal() {
        return generatedTokensTotal;
    }

    public LanguageModel model() {
        return model;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public ChatTemplate template() {
        return template;
    }

    @Override
    public void close() {
        session.close();
    }
}
