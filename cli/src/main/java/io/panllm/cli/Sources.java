package io.panllm.cli;

import io.panllm.gguf.GgufFile;
import io.panllm.gguf.GgufValue;
import io.panllm.runtime.convert.GgufSource;
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
