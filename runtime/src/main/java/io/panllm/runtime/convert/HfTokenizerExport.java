package io.panllm.runtime.convert;

import io.panllm.gguf.GgufMetadata;
import io.panllm.runtime.tokenizer.HfTokenizerJsonWriter;
import io.panllm.runtime.tokenizer.TokenizerException;
import io.panllm.runtime.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Tokenizer files of an exported checkpoint made from GGUF tokenizer metadata; what cannot be made is told in a note. */
final class HfTokenizerExport {
    private HfTokenizerExport() {
    }

    static List<Path> write(GgufMetadata meta, Path dir, List<String> notes) throws IOException {
        if (!meta.has("tokenizer.ggml.model")) {
            notes.add("no tokenizer files: the source has no vocabulary");
            return List.of();
        }
        try {
            return HfTokenizerJsonWriter.write(Tokenizers.fromGguf(meta).vocabulary(), dir);
        } catch (TokenizerException e) {
            notes.add("no tokenizer files: " + e.getMessage());
            return List.of();
        }
    }
}
