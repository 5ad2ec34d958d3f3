package io.panllm.runtime.tokenizer;

import io.panllm.gguf.GgufFile;
import io.panllm.gguf.GgufMetadata;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/** The shared test data (../shared/data, set by surefire as the system property panllm.data). */
final class TestFiles {
    private TestFiles() {
    }

    static Path file(String relative) {
        Path dir = Path.of(System.getProperty("panllm.data", "../shared/data")).toAbsolutePath().normalize();
        Path p = dir.resolve(relative);
        if (!Files.exists(p)) {
            throw new IllegalStateException("test data file not found: " + p);
        }
        return p;
    }

    static GgufMetadata ggufMetadata(String relative) {
        try (GgufFile gguf = GgufFile.open(file(relative))) {
            return gguf.metadata();
        }
    }

    static Tokenizer ggufTokenizer(String relative) {
        return Tokenizers.fromGguf(ggufMetadata(relative), relative);
    }

    private static Tokenizer llama3;

    /** The Llama 3 tokenizer, loaded once for all test classes (tokenizer.json takes a second or more). */
    static synchronized Tokenizer llama3() {
        if (llama3 == null) {
            llama3 = Tokenizers.fromHfJson(file("tokenizers/llama3/tokenizer.json"));
        }
        return llama3;
    }

    /** The start of wiki.test.raw, cut back to a whole line so no character is split. */
    static String wikiText(int maxBytes) {
        try {
            byte[] all = Files.readAllBytes(file("wikitext-2/wiki.test.raw"));
            int end = Math.min(maxBytes, all.length);
            while (end < all.length && end > 0 && all[end - 1] != '\n') {
                end--;
            }
            return new String(Arrays.copyOf(all, end), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
