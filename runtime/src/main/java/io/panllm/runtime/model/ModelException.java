package io.panllm.runtime.model;

/** A model cannot be built from the given file or tensors: unknown architecture, missing or misshapen tensor, bad metadata. */
public class ModelException extends RuntimeException {
    public ModelException(String message) {
        super(message);
    }

    public ModelException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Logits that are NaN: nothing can be scored or sampled from them. */
    public static ModelException nanLogits() {
        return new ModelException("the model returned NaN logits (a numerical fault in the backend or the weights)");
    }
}
