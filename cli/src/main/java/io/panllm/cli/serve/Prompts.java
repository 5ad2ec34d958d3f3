package io.panllm.cli.serve;

import com.fasterxml.jackson.databind.JsonNode;
import io.panllm.runtime.chat.ChatMessage;
import io.panllm.runtime.chat.ChatTemplate;
import io.panllm.runtime.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;

/** Turns the prompt fields of a request into token ids. */
final class Prompts {
    private final Tokenizer tokenizer;
    private final int maxPrompts;

    Prompts(Tokenizer tokenizer, int maxPrompts) {
        this.tokenizer = tokenizer;
        this.maxPrompts = maxPrompts;
    }

    /** A completion prompt's token ids and texts. */
    record Batch(List<int[]> tokens, List<String> texts) {
    }

    /**
     * The completions endpoint's {@code prompt}: a string, an array of token ids, or an array of
     * either (one choice each). Text gets the BOS the model wants and its control tokens parsed,
     * as llama-server does; token ids are taken as they are.
     */
    Batch completion(JsonNode body) {
        JsonNode prompt = body.get("prompt");
        if (prompt == null || prompt.isNull()) {
            throw ApiException.invalid("'prompt' is required", "prompt");
        }
        List<int[]> tokens = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        if (prompt.isArray() && !prompt.isEmpty() && (prompt.get(0).isTextual() || prompt.get(0).isArray())) {
            if (prompt.size() > maxPrompts) {
                throw ApiException.invalid("at most " + maxPrompts + " prompts per request", "prompt");
            }
            for (JsonNode one : prompt) {
                addOne(one, tokens, texts);
            }
        } else {
            addOne(prompt, tokens, texts);
        }
        return new Batch(tokens, texts);
    }

    private void addOne(JsonNode prompt, List<int[]> tokens, List<String> texts) {
        if (prompt.isTextual()) {
            String text = prompt.textValue();
            if (text.isEmpty()) {
                throw ApiException.invalid("'prompt' is empty", "prompt");
            }
            tokens.add(tokenizer.encode(text, tokenizer.vocabulary().addBos(), true));
            texts.add(text);
            return;
        }
        if (!prompt.isArray() || prompt.isEmpty()) {
            throw ApiException.invalid("'prompt' must be a non-empty string, an array of token ids, or an array of those",
                    "prompt");
        }
        int[] ids = new int[prompt.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode id = prompt.get(i);
            if (!id.canConvertToExactIntegral() || id.longValue() < 0 || id.longValue() >= tokenizer.vocabSize()) {
                throw ApiException.invalid("'prompt' token " + i + " is not a token id of this model (0.."
                        + (tokenizer.vocabSize() - 1) + ")", "prompt");
            }
            ids[i] = id.intValue();
        }
        tokens.add(ids);
        texts.add(tokenizer.decode(ids));
    }

    /** The chat endpoint's {@code messages}, rendered with the model's chat template. */
    int[] chat(JsonNode body, ChatTemplate template) {
        JsonNode messages = body.get("messages");
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            throw ApiException.invalid("'messages' must be a non-empty array", "messages");
        }
        List<ChatMessage> conversation = new ArrayList<>();
        for (JsonNode message : messages) {
            if (!message.isObject() || !message.path("role").isTextual()) {
                throw ApiException.invalid("each message needs a 'role' and a 'content'", "messages");
            }
            String role = message.get("role").textValue();
            role = role.equals("developer") ? ChatMessage.SYSTEM : role;
            if (!List.of(ChatMessage.SYSTEM, ChatMessage.USER, ChatMessage.ASSISTANT).contains(role)) {
                throw ApiException.invalid("message role '" + role + "' is not supported (system, user, assistant)",
                        "messages");
            }
            conversation.add(new ChatMessage(role, content(message.get("content"))));
        }
        String text = template.render(conversation, true);
        return tokenizer.encode(text, tokenizer.vocabulary().addBos(), true);
    }

    /** A message's content: a string, or an array of parts of which the text ones are joined. */
    private static String content(JsonNode content) {
        if (content == null || content.isNull()) {
            return "";
        }
        if (content.isTextual()) {
            return content.textValue();
        }
        if (content.isArray()) {
            StringBuilder text = new StringBuilder();
            for (JsonNode part : content) {
                if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw ApiException.invalid("only text content parts are supported", "messages");
                }
                text.append(part.get("text").textValue());
            }
            return text.toString();
        }
        throw ApiException.invalid("a message's 'content' must be a string or an array of text parts", "messages");
    }
}
