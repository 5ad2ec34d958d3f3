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
     * When the message does not fit in what is left of the context, nothing is evaluated and the
     * result's reason is {@link StopReason#CONTEXT_FULL} with no tokens.
     */
    public GenerationResult reply(String userText, TokenListener listener, BooleanSupplier cancelled) {
        ChatMessage user = ChatMessage.user(userText);
        boolean fresh = history.isEmpty() || (history.size() == 1 && history.getFirst().role().equals(ChatMessage.SYSTEM)
                && session.position() == 0);
        List<ChatMessage> base = new ArrayList<>(history);
        if (fresh && base.isEmpty() && systemPrompt != null && !systemPrompt.isBlank()) {
            base.add(ChatMessage.system(systemPrompt));
        }
        String text = null;
        boolean fromStart = fresh;
        if (!fresh) {
            try {
                text = template.renderNext(history, user);
            } catch (IllegalStateException e) {
                // The template renders past turns differently once there is a next one (Qwen3 and
                // DeepSeek-R1 drop the reasoning of earlier replies): the cache cannot be extended,
                // so evaluate the whole conversation again.
                fromStart = true;
            }
        }
        if (fromStart) {
            List<ChatMessage> all = new ArrayList<>(base);
            all.add(user);
            text = template.render(all, true);
        }
        int[] turn = tokenizer.encode(text, fromStart && tokenizer.vocabulary().addBos(), true);
        int[] pending = fromStart ? new int[0] : carryOver;
        int[] prompt = new int[pending.length + turn.length];
        System.arraycopy(pending, 0, prompt, 0, pending.length);
        System.arraycopy(turn, 0, prompt, pending.length, turn.length);
        if ((fromStart ? 0 : session.position()) + prompt.length >= session.capacity()) {
            return new GenerationResult(new int[0], "", StopReason.CONTEXT_FULL, 0, 0, 0);
        }
        if (fromStart) {
            session.rewind(0);
        }
        Generator generator = new Generator(sampler, () -> new TokenizerTextStream(tokenizer));
        GenerationResult result = generator.generate(session, prompt, new GenerationOptions(maxTokens, stopTokens), listener, cancelled);
        if (fresh) {
            history.clear();
            history.addAll(base);
        }
        history.add(user);
        history.add(ChatMessage.assistant(result.text()));
        carryOver = carryOverAfter(result);
        lastReply = result;
        promptTokensTotal += result.promptTokens();
        generatedTokensTotal += result.generatedTokens();
        return result;
    }

    /** The last sampled token is not in the cache yet; a reply cut short also needs its end-of-turn token. */
    private int[] carryOverAfter(GenerationResult result) {
        int[] pending = result.pendingToken().stream().toArray();
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
