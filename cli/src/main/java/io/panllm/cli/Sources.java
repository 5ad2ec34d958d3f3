package io.panllm.cli;

import io.panllm.gguf.GgufValue;
import io.panllm.runtime.convert.ConvertException;
import io.panllm.runtime.convert.Llama2cSource;
import io.panllm.runtime.convert.ModelSource;
import java.nio.file.Path;
import java.util.Map;

/** Opens the conversion sources that live in other packages (HF, llama2.c, tokenizers). */
final class Sources {
    private Sources() {
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
