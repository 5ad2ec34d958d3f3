package io.panllm.cli;

import io.panllm.gguf.GgufValue;
import io.panllm.runtime.convert.ConvertException;
import io.panllm.runtime.convert.GgufSource;
import io.panllm.runtime.convert.Llama2cSource;
import io.panllm.runtime.convert.ModelSource;
import java.nio.file.Path;
import java.util.Map;

/** Opens the conversion sources that live in other packages (HF, llama2.c, tokenizers). */
final class Sources {
    private Sources() {
    }

    /**
     * Opens {@code input} as a conversion source, of the format {@code from} (hf, llama2c or gguf)
     * or, when that is null, of the format {@link ModelFiles#detect} finds.
     *
     * @param vocab the tokenizer to use for a llama2.c checkpoint (null: look beside it)
     */
    static ModelSource open(Path input, String from, Path vocab) {
        String format = from != null ? from.toLowerCase(java.util.Locale.ROOT) : switch (ModelFiles.detect(input)) {
            case GGUF -> "gguf";
            case LLAMA2C -> "llama2c";
            case HF_DIRECTORY, SAFETENSORS -> "hf";
        };
        return switch (format) {
            case "gguf" -> new GgufSource(input);
            case "hf" -> huggingFace(input);
            case "llama2c" -> llama2c(input, vocab);
            default -> throw new IllegalArgumentException("--from must be hf, llama2c or gguf, not '" + from + "'");
        };
    }

    static ModelSource huggingFace(Path dir) {
        throw new ConvertException(dir + ": Hugging Face checkpoints are not convertible yet");
    }

    static ModelSource llama2c(Path checkpoint, Path tokenizer) {
        return new Llama2cSource(checkpoint, tokenizer);
    }

    static Map<String, GgufValue> tokenizerMetadata(Path vocab) {
        throw new ConvertException(vocab + ": embedding a tokenizer is not supported yet");
    }
}
