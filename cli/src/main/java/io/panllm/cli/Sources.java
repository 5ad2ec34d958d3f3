package io.panllm.cli;

import io.panllm.gguf.GgufFile;
import io.panllm.gguf.GgufValue;
import io.panllm.runtime.convert.HfSource;
import io.panllm.runtime.convert.Llama2cSource;
import io.panllm.runtime.convert.ModelSource;
import io.panllm.runtime.tokenizer.GgufTokenizerMetadata;
import io.panllm.runtime.tokenizer.Tokenizer;
import io.panllm.runtime.tokenizer.Tokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Opens the conversion sources that live in other packages (HF, llama2.c, tokenizers). */
final class Sources {
    private Sources() {
    }

    /** A Hugging Face checkpoint directory, or one .safetensors file with config.json and tokenizer.json beside it. */
    static ModelSource huggingFace(Path dir) {
        return new HfSource(dir);
    }

    static ModelSource llama2c(Path checkpoint, Path tokenizer) {
        return new Llama2cSource(checkpoint, tokenizer);
    }

    /**
     * The GGUF tokenizer keys of {@code --vocab}: a Hugging Face tokenizer.json (or a directory
     * holding one), a GGUF file (its tokenizer.* keys), or a llama2.c tokenizer.bin.
     */
    static Map<String, GgufValue> tokenizerMetadata(Path vocab) {
        Path json = Files.isDirectory(vocab) ? vocab.resolve("tokenizer.json") : vocab;
        Tokenizer tokenizer;
        if (json.getFileName().toString().endsWith(".json")) {
            tokenizer = Tokenizers.fromHfJson(json);
        } else if (vocab.getFileName().toString().endsWith(".gguf")) {
            try (GgufFile f = GgufFile.open(vocab)) {
                tokenizer = Tokenizers.fromGguf(f.metadata(), vocab.toString());
            }
        } else {
            tokenizer = Tokenizers.fromLlama2c(vocab);
        }
        return GgufTokenizerMetadata.write(tokenizer.vocabulary());
    }
}
