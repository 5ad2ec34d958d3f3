package io.panllm.runtime.chat.jinja;

/** A chat template that cannot be rendered: its own {@code raise_exception(...)}, or an error in it. */
public class TemplateException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TemplateException(String message) {
        super(message);
    }
}
