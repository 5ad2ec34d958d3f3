package io.panllm.runtime.chat;

import java.util.List;

/**
 * Llama 2 Chat, as Meta's reference code and the model's Jinja template write it:
 * <pre>
 * [INST] &lt;&lt;SYS&gt;&gt;\n{system}\n&lt;&lt;/SYS&gt;&gt;\n\n{user} [/INST] {assistant} &lt;/s&gt;&lt;s&gt;[INST] {user} [/INST]
 * </pre>
 * (each message trimmed, a system block together with the user message it joins; the first
 * &lt;s&gt; is the tokenizer's BOS). A system message goes into the
 * next user message. The assistant's turn is open after "[/INST]", so the generation prompt adds
 * nothing.
 */
final class Llama2ChatTemplate implements ChatTemplate {
    static final String NAME = "llama2";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder out = new StringBuilder();
        String pendingSystem = null;
        boolean firstUser = true;
        for (ChatMessage message : messages) {
            switch (message.role()) {
                case ChatMessage.SYSTEM -> pendingSystem = message.content();
                case ChatMessage.USER -> {
                    String content = message.content();
                    if (pendingSystem != null) {
                        // trimmed together, as the Jinja template does: the system block is part of the message
                        content = "<<SYS>>\n" + pendingSystem + "\n<</SYS>>\n\n" + content;
                        pendingSystem = null;
                    }
                    out.append(firstUser ? "" : "<s>").append("[INST] ").append(content.strip()).append(" [/INST]");
                    firstUser = false;
                }
                case ChatMessage.ASSISTANT -> out.append(' ').append(message.content().strip()).append(" </s>");
                default -> throw new IllegalArgumentException("the llama2 chat template has no role '" + message.role()
                        + "' (only system, user, assistant)");
            }
        }
        return out.toString();
    }

    @Override
    public List<String> endOfTurnTexts() {
        return List.of("</s>");
    }
}
