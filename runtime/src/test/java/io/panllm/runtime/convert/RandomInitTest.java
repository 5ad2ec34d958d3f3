package io.panllm.runtime.convert;

import static org.assertj.core.api.Assertions.assertThat;

import io.panllm.gguf.GgufFile;
import io.panllm.runtime.tokenizer.GgufTokenizerMetadata;
import io.panllm.runtime.tokenizer.Tokenizers;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RandomInitTest {
    @TempDir
    Path dir;

    private static Path tokenizer(String family) {
        return Path.of(System.getProperty("panllm.data"), "tokenizers", family, "tokenizer.json");
    }

    /** llama.cpp refuses a file whose vocab_size and embedding rows differ from its token list. */
    @Test
    void shapesFollowTheEmbeddedVocabulary() throws Exception {
        var vocab = GgufTokenizerMetadata.write(Tokenizers.fromHfJson(tokenizer("llama3")).vocabulary());
        Path out = dir.resolve("tiny-llama3-vocab.gguf");
        try (RandomInit source = new RandomInit(RandomInit.Shape.TINY, 1, vocab)) {
            assertThat(source.vocabSize()).isEqualTo(128256);
            Converter.convert(source, new QuantPolicy(TargetType.F16, 2, 2, false, null, null), out, null);
        }
        try (GgufFile f = GgufFile.open(out)) {
            int tokens = f.metadata().get("tokenizer.ggml.tokens").value() instanceof io.panllm.gguf.GgufArray a ? a.length() : -1;
            assertThat(tokens).isEqualTo(128256);
            assertThat(f.metadata().getLong("llama.vocab_size")).isEqualTo(tokens);
            assertThat(f.tensor("token_embd.weight").shape()).containsExactly(64, tokens);
        }
    }

    @Test
    void placeholderVocabularyKeepsTheShapesSize() {
        try (RandomInit source = new RandomInit(RandomInit.Shape.TINY, 1, null)) {
            assertThat(source.vocabSize()).isEqualTo(512);
            assertThat(source.tensors().getFirst().shape()).containsExactly(64, 512);
        }
    }
}
