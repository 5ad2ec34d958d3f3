package io.panllm.runtime.chat;

import io.panllm.runtime.chat.jinja.JinjaTemplate;
import io.panllm.runtime.chat.jinja.TemplateException;
import io.panllm.runtime.tokenizer.SpecialTokens;
import io.panllm.runtime.tokenizer.TokenType;
import io.panllm.runtime.tokenizer.Vocabulary;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The chat template a model ships ({@code tokenizer.chat_template} in GGUF, {@code chat_template}
 * in tokenizer_config.json), rendered as transformers renders it: {@code messages},
 * {@code add_generation_prompt}, {@code bos_token} and {@code eos_token} (the texts of the
 * model's BOS and EOS), plus any extra variables; {@code tools} stays undefined.
 *
 * <p>As the {@link ChatTemplate} contract asks, the leading BOS the template writes is left out
 * when the tokenizer adds it anyway (as llama.cpp does), so a prompt never starts with two.
 */
public final class JinjaChatTemplate implements ChatTemplate {
    public static final String NAME = "jinja";

    private final JinjaTemplate template;
    private final String bosToken;
    private final String eosToken;
    private final boolean dropLeadingBos;
    private final Map<String, Object> extraVariables;
    private final List<String> endOfTurnTexts;

    /**
     * @param dropLeadingBos leave a leading {@code bosToken} out of what {@link #render} returns
     * @param specialTexts   the texts of the vocabulary's control tokens, to find what ends a turn
     */
    public JinjaChatTemplate(String source, String bosToken, String eosToken, boolean dropLeadingBos,
                             Map<String, ?> extraVariables, List<String> specialTexts) {
        this.template = JinjaTemplate.of(source);
        this.bosToken = Objects.requireNonNullElse(bosToken, "");
        this.eosToken = Objects.requireNonNullElse(eosToken, "");
        this.dropLeadingBos = dropLeadingBos;
        this.extraVariables = Map.copyOf(extraVariables);
        this.endOfTurnTexts = findEndOfTurn(specialTexts);
    }

    /** The model's own template, with its BOS and EOS texts; null if the vocabulary has none. */
    public static JinjaChatTemplate forVocabulary(Vocabulary vocab) {
        if (vocab.chatTemplate() == null) {
            return null;
        }
        List<String> specials = new ArrayList<>();
        for (int i = 0; i < vocab.size(); i++) {
            if (vocab.type(i) == TokenType.CONTROL || vocab.type(i) == TokenType.USER_DEFINED) {
                specials.add(vocab.tokens().get(i));
            }
        }
        return new JinjaChatTemplate(vocab.chatTemplate(), text(vocab, vocab.special().bos()),
                text(vocab, vocab.special().eos()), vocab.addBos(), Map.of(), specials);
    }

    private static String text(Vocabulary vocab, int id) {
        return id == SpecialTokens.NONE ? "" : vocab.tokens().get(id);
    }

    @Override
    public String name() {
        return NAME;
    }

    /**
     * The template's text for these messages, exactly as transformers renders it (leading BOS
     * included).
     *
     * @param messages  each a map with "role" and "content" and whatever else the template reads
     * @param variables more variables (e.g. {@code enable_thinking}); they override the defaults
     * @throws TemplateException when the template raises or fails
     */
    public String renderExactly(List<? extends Map<String, ?>> messages, boolean addGenerationPrompt, Map<String, ?> variables) {
        Map<String, Object> vars = new HashMap<>();
        vars.put("messages", messages);
        vars.put("add_generation_prompt", addGenerationPrompt);
        vars.put("bos_token", bosToken);
        vars.put("eos_token", eosToken);
        vars.putAll(extraVariables);
        vars.putAll(variables);
        return template.render(vars);
    }

    /** @throws TemplateException when the template refuses the conversation (its raise_exception) or fails */
    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        String text = renderExactly(asMaps(messages), addGenerationPrompt, Map.of());
        return dropLeadingBos && !bosToken.isEmpty() && text.startsWith(bosToken) ? text.substring(bosToken.length()) : text;
    }

    private static List<Map<String, Object>> asMaps(List<ChatMessage> messages) {
        List<Map<String, Object>> out = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", m.role());
            map.put("content", m.content());
            out.add(map);
        }
        return out;
    }

    @Override
    public List<String> endOfTurnTexts() {
        return endOfTurnTexts;
    }

    /**
     * What ends an assistant turn: the longest control token the template writes right after an
     * assistant message (Llama 3's "&lt;|eot_id|&gt;", ChatML's "&lt;|im_end|&gt;", Gemma's
     * "&lt;end_of_turn&gt;", Mistral's EOS), found by rendering a probe conversation; the EOS text too.
     */
    private List<String> findEndOfTurn(List<String> specialTexts) {
        List<String> ends = new ArrayList<>();
        String marker = "\u2063reply\u2063";
        try {
            String text = renderExactly(asMaps(List.of(ChatMessage.user("hi"), ChatMessage.assistant(marker))), false, Map.of());
            int at = text.indexOf(marker);
            if (at >= 0) {
                String after = text.substring(at + marker.length()).stripLeading();
                String best = null;
                for (String special : specialTexts) {
                    if (!special.isEmpty() && after.startsWith(special) && (best == null || special.length() > best.length())) {
                        best = special;
                    }
                }
                if (best != null) {
                    ends.add(best);
                }
            }
        } catch (TemplateException e) {
            // a template that refuses the probe conversation: the EOS alone ends a turn
        }
        if (!eosToken.isEmpty() && !ends.contains(eosToken)) {
            ends.add(eosToken);
        }
        return List.copyOf(ends);
    }
}
