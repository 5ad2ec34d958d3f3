package io.panllm.runtime.chat;

import java.util.List;

/** ChatML (Qwen, many fine-tunes): {@code <|im_start|>role\ncontent<|im_end|>\n} per message. */
final class ChatMlChatTemplate implements ChatTemplate {
    static final String NAME = "chatml";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder out = new StringBuilder();
        for (ChatMessage message : messages) {
            out.append("<|im_start|>").append(message.role()).append('\n').append(message.content()).append("<|im_end|>\n");
        }
        if (addGenerationPrompt) {
            out.append("<|im_start|>assistant\n");
        }
        return out.toString();
    }

    @Override
    public List<String> endOfTurnTexts() {
        return List.of("<|im_end|>");
    }
}
