package io.panllm.runtime.chat;

import java.util.List;

/**
 * Llama 3 / 3.1 / 3.2 Instruct:
 * {@code <|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>} per message, content
 * trimmed as the model's own Jinja template does.
 */
final class Llama3ChatTemplate implements ChatTemplate {
    static final String NAME = "llama3";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder out = new StringBuilder();
        for (ChatMessage message : messages) {
            header(out, message.role()).append(message.content().strip()).append("<|eot_id|>");
        }
        if (addGenerationPrompt) {
            header(out, ChatMessage.ASSISTANT);
        }
        return out.toString();
    }

    private static StringBuilder header(StringBuilder out, String role) {
        return out.append("<|start_header_id|>").append(role).append("<|end_header_id|>\n\n");
    }

    @Override
    public List<String> endOfTurnTexts() {
        return List.of("<|eot_id|>");
    }
}
