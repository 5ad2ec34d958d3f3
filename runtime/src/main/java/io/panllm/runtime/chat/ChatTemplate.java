package io.panllm.runtime.chat;

import io.panllm.runtime.tokenizer.SpecialTokens;
import io.panllm.runtime.tokenizer.Tokenizer;
import io.panllm.runtime.tokenizer.Vocabulary;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * A chat prompt format: turns a conversation into the text the model was trained on. The text
 * holds control-token markup ("&lt;|eot_id|&gt;", "[INST]", ...), so tokenize it with
 * {@code parseSpecial = true}. It leaves out the leading BOS, as llama.cpp's built-in templates
 * do: encode the start of a conversation with {@code addBos = vocabulary().addBos()}, later
 * parts without.
 *
 * <p>A model that ships a Jinja template gets it rendered as transformers does
 * ({@link JinjaChatTemplate}). Three formats are built in (llama3, llama2, chatml) for files
 * without one, chosen by name or guessed from the vocabulary.
 */
public interface ChatTemplate {

    /** The name {@link #forName} knows it by. */
    String name();

    /** The conversation as prompt text; {@code addGenerationPrompt} opens the assistant's turn after it. */
    String render(List<ChatMessage> messages, boolean addGenerationPrompt);

    /** The texts of the tokens that end an assistant turn in this format. */
    List<String> endOfTurnTexts();

    /**
     * The text to feed after {@code history} to add one message and open the assistant's turn,
     * for a chat that keeps the conversation in the KV cache. The cache is taken to hold
     * {@code render(history, false)}, except that a last assistant message ends with the token
     * that stopped its generation (what the template puts after that token is included here).
     *
     * @throws IllegalStateException if this template does not render the conversation as an
     *                               extension of the shorter one (then render it all again)
     */
    default String renderNext(List<ChatMessage> history, ChatMessage next) {
        List<ChatMessage> extended = new ArrayList<>(history);
        extended.add(next);
        String full = render(extended, true);
        if (history.isEmpty()) {
            return full;
        }
        String past = render(history, false);
        if (!full.startsWith(past)) {
            throw new IllegalStateException("chat template " + name() + " does not render the conversation incrementally");
        }
        boolean afterReply = history.getLast().role().equals(ChatMessage.ASSISTANT);
        return (afterReply ? textAfterLastStop(past) : "") + full.substring(past.length());
    }

    /** What the rendering puts after the last end-of-turn token (ChatML: a newline). */
    private String textAfterLastStop(String rendered) {
        int stopEnd = -1;
        for (String stop : endOfTurnTexts()) {
            int at = rendered.lastIndexOf(stop);
            if (at >= 0) {
                stopEnd = Math.max(stopEnd, at + stop.length());
            }
        }
        return stopEnd < 0 ? "" : rendered.substring(stopEnd);
    }

    /** The tokens that end generation in this format: the tokenizer's stop tokens and this template's turn ends. */
    default Set<Integer> stopTokens(Tokenizer tokenizer) {
        Set<Integer> stops = new HashSet<>(tokenizer.stopTokens());
        for (String text : endOfTurnTexts()) {
            int id = tokenizer.id(text);
            if (id != SpecialTokens.NONE && tokenizer.isSpecial(id)) {
                stops.add(id);
            }
        }
        return Set.copyOf(stops);
    }

    /** Names {@link #forName} accepts. */
    static List<String> names() {
        return List.of(Llama3ChatTemplate.NAME, Llama2ChatTemplate.NAME, ChatMlChatTemplate.NAME);
    }

    /** A built-in template by name: "llama3", "llama2" or "chatml" (case-insensitive). */
    static ChatTemplate forName(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case Llama3ChatTemplate.NAME -> new Llama3ChatTemplate();
            case Llama2ChatTemplate.NAME -> new Llama2ChatTemplate();
            case ChatMlChatTemplate.NAME -> new ChatMlChatTemplate();
            default -> throw new UnknownChatTemplateException("unknown chat template '" + name + "' (built in: "
                    + String.join(", ", names()) + ")");
        };
    }

    /** The built-in format a model's Jinja template uses, recognised by its distinctive markers. */
    static Optional<ChatTemplate> detect(String jinja) {
        if (jinja == null) {
            return Optional.empty();
        }
        if (jinja.contains("<|im_start|>")) {
            return Optional.of(new ChatMlChatTemplate());
        }
        if (jinja.contains("[INST]")) {
            return Optional.of(new Llama2ChatTemplate());
        }
        if (jinja.contains("<|start_header_id|>") && jinja.contains("<|end_header_id|>")) {
            return Optional.of(new Llama3ChatTemplate());
        }
        return Optional.empty();
    }

    /**
     * The template for a model: its own {@code tokenizer.chat_template}, or when it has none, a
     * built-in one guessed from its vocabulary (Llama 3 header tokens, ChatML tokens, else Llama 2
     * for SentencePiece vocabularies such as llama2.c's).
     *
     * @throws UnknownChatTemplateException if the vocabulary does not tell; pick one by name then
     */
    static ChatTemplate forVocabulary(Vocabulary vocab) {
        if (vocab.chatTemplate() != null) {
            return JinjaChatTemplate.forVocabulary(vocab);
        }
        if (vocab.findSpecial("<|start_header_id|>") != SpecialTokens.NONE) {
            return new Llama3ChatTemplate();
        }
        if (vocab.findSpecial("<|im_start|>") != SpecialTokens.NONE) {
            return new ChatMlChatTemplate();
        }
        if (vocab.model() != Vocabulary.Model.BYTE_PAIR) {
            return new Llama2ChatTemplate();
        }
        throw new UnknownChatTemplateException("the model has no chat template and its vocabulary does not suggest one; choose one by name ("
                + String.join(", ", names()) + ")");
    }
}
