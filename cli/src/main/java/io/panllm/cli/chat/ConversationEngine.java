package io.panllm.cli.chat;

import io.panllm.runtime.chat.ChatMessage;
import io.panllm.runtime.chat.Conversation;
import io.panllm.runtime.eval.Perplexity;
import io.panllm.runtime.eval.PerplexityOptions;
import io.panllm.runtime.eval.PerplexityResult;
import io.panllm.runtime.generate.GenerationResult;
import io.panllm.runtime.generate.SamplerConfig;
import io.panllm.runtime.generate.TokenListener;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/** The REPL's engine: a {@link Conversation}, plus the settings and figures the slash commands show. */
public final class ConversationEngine implements ChatEngine {
    private final Conversation conversation;

    public ConversationEngine(Conversation conversation) {
        this.conversation = conversation;
    }

    @Override
    public ReplyStats reply(String userText, Consumer<String> onText, BooleanSupplier cancelled) {
        int droppedBefore = conversation.turnsDropped();
        GenerationResult r = conversation.reply(userText, new TokenListener() {
            @Override
            public void onToken(int token, String piece) {
                onText.accept(piece);
            }

            @Override
            public void onTrailingText(String text) {
                onText.accept(text);
            }
        }, cancelled);
        String reason = switch (r.reason()) {
            case STOP_TOKEN -> "end of turn";
            case MAX_TOKENS -> "token limit";
            case CONTEXT_FULL -> "context full";
            default -> "stopped";
        };
        return new ReplyStats(r.promptTokens(), r.promptMillis(), r.generatedTokens(), r.generationMillis(), reason,
                conversation.turnsDropped() - droppedBefore);
    }

    @Override
    public void reset() {
        conversation.reset();
    }

    @Override
    public void setSystemPrompt(String system) {
        conversation.setSystemPrompt(system);
    }

    @Override
    public void set(String name, String value) {
        SamplerConfig c = conversation.samplerConfig();
        try {
            switch (name.toLowerCase(Locale.ROOT)) {
                case "temp", "temperature" -> c = c.withTemperature(Float.parseFloat(value));
                case "top-k", "top_k" -> c = c.withTopK(Integer.parseInt(value));
                case "top-p", "top_p" -> c = c.withTopP(Float.parseFloat(value));
                case "min-p", "min_p" -> c = c.withMinP(Float.parseFloat(value));
                case "repeat-penalty", "repeat_penalty" -> c = c.withRepeatPenalty(Float.parseFloat(value), c.repeatLastN());
                case "seed" -> c = c.withSeed(Long.parseLong(value));
                case "n-predict", "n_predict", "max-tokens" -> {
                    conversation.setMaxTokens(Integer.parseInt(value));
                    return;
                }
                default -> throw new IllegalArgumentException("unknown setting '" + name
                        + "' (temp, top-k, top-p, min-p, repeat-penalty, seed, n-predict)");
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + value + "' is not a number");
        }
        conversation.setSampler(c);
    }

    @Override
    public String settings() {
        SamplerConfig c = conversation.samplerConfig();
        return String.format(Locale.ROOT, "temp = %s%ntop-k = %d%ntop-p = %s%nmin-p = %s%nrepeat-penalty = %s%nseed = %d%nn-predict = %d",
                c.temperature(), c.topK(), c.topP(), c.minP(), c.repeatPenalty(), conversation.seed(), conversation.maxTokens());
    }

    @Override
    public String stats() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "context: %d / %d tokens used%n", conversation.contextUsed(), conversation.contextSize()));
        sb.append(String.format(Locale.ROOT, "tokens: %d prompt, %d generated in this conversation%n",
                conversation.promptTokensTotal(), conversation.generatedTokensTotal()));
        GenerationResult last = conversation.lastReply();
        if (last != null) {
            sb.append(String.format(Locale.ROOT, "last reply: prompt %d tokens at %.1f tok/s, %d tokens generated at %.1f tok/s%n",
                    last.promptTokens(), last.promptTokensPerSecond(), last.generatedTokens(), last.tokensPerSecond()));
        }
        sb.append("model: ").append(conversation.model().description()).append(", template ").append(conversation.template().name());
        return sb.toString();
    }

    @Override
    public String transcript() {
        StringBuilder sb = new StringBuilder();
        if (conversation.systemPrompt() != null && conversation.history().stream().noneMatch(m -> m.role().equals(ChatMessage.SYSTEM))) {
            sb.append("system: ").append(conversation.systemPrompt()).append("\n\n");
        }
        for (ChatMessage m : conversation.history()) {
            sb.append(m.role()).append(": ").append(m.content()).append("\n\n");
        }
        return sb.toString();
    }

    @Override
    public int contextUsed() {
        return conversation.contextUsed();
    }

    @Override
    public int contextSize() {
        return conversation.contextSize();
    }

    @Override
    public String perplexity(Path file, int context, int chunks, Consumer<String> progress, BooleanSupplier cancelled)
            throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(file + ": no such file");
        }
        var tokenizer = conversation.tokenizer();
        boolean addBos = tokenizer.vocabulary().addBos();
        int[] tokens = tokenizer.encode(Files.readString(file, StandardCharsets.UTF_8), addBos, false);
        double[] last = {Double.NaN};
        try {
            PerplexityResult r = Perplexity.run(conversation.model(), tokens, new PerplexityOptions(context, chunks, addBos, tokenizer.bos()),
                    (chunk, total, ppl) -> {
                        last[0] = ppl;
                        progress.accept(String.format(Locale.ROOT, "perplexity: chunk %d/%d, PPL %.4f", chunk, total, ppl));
                        if (cancelled.getAsBoolean()) {
                            throw new CancellationException();
                        }
                    });
            return String.format(Locale.ROOT, "PPL = %.4f +/- %.5f (%d chunks of %d tokens)", r.perplexity(), r.standardError(),
                    r.chunks(), r.contextSize());
        } catch (CancellationException e) {
            return String.format(Locale.ROOT, "PPL so far = %.4f", last[0]);
        }
    }

}
