package io.panllm.runtime.chat;

/** A chat template name that is not built in, or a model whose template cannot be recognised. */
public class UnknownChatTemplateException extends RuntimeException {
    public UnknownChatTemplateException(String message) {
        super(message);
    }
}
