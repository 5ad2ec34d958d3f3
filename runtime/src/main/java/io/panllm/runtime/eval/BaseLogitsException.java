package io.panllm.runtime.eval;

import java.io.IOException;
import java.nio.file.Path;

/** A KL-divergence base file is malformed or does not fit the model or the run. */
public class BaseLogitsException extends IOException {
    public BaseLogitsException(Path file, String problem) {
        super(file + ": " + problem);
    }

    public BaseLogitsException(Path file, long offset, String problem) {
        super(file + " at offset " + offset + ": " + problem);
    }
}
