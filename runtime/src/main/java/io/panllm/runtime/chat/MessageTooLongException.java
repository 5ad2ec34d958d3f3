package io.panllm.runtime.chat;

/** A chat message that does not fit in the context even with every earlier turn dropped. */
public class MessageTooLongException extends IllegalArgumentException {
    public MessageTooLongException(int messageTokens, int promptTokens, int contextSize) {
        super("this message is " + messageTokens + " tokens (" + promptTokens + " with the system prompt and the chat"
                + " template's markup), the context holds " + contextSize + ": start chat with a larger -c (at least "
                + (promptTokens + 1) + ", more to leave room for the reply), or send a shorter message");
    }
}
