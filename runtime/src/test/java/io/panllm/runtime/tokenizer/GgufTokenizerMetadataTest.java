package io.panllm.runtime.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.panllm.gguf.GgufArray;
import io.panllm.gguf.GgufFile;
import io.panllm.gguf.GgufMetadata;
import io.panllm.gguf.GgufValue;
import io.panllm.gguf.GgufValueType;
import io.panllm.gguf.GgufWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tokenizers from llama.cpp's vocab GGUFs, and vocabularies written back as GGUF metadata. */
class GgufTokenizerMetadataTest {

    @Test
    void gpt2VocabLoadsAndRoundTrips() {
        Tokenizer gpt2 = TestFiles.ggufTokenizer("gguf/vocab/ggml-vocab-gpt-2.gguf");
        assertThat(gpt2.vocabSize()).isEqualTo(50_257);
        assertThat(gpt2.vocabulary().preTokenizer()).isEqualTo("gpt-2");
        // well-known GPT-2 ids
        assertThat(gpt2.encode("Hello world", false, false)).containsExactly(15496, 995);
        assertThat(gpt2.encode(" the", false, false)).containsExactly(262);
        assertThat(gpt2.encode("<|endoftext|>", false, true)).containsExactly(50_256);
        assertThat(gpt2.stopTokens()).containsExactly(50_256);
        assertThat(gpt2.vocabulary().addBos()).isFalse();
        String text = TestFiles.wikiText(200_000);
        assertThat(gpt2.decode(gpt2.encode(text, false, false))).isEqualTo(text);
    }

    /** A model file (not a vocab-only one) with neither a pre-tokenizer name nor add_bos_token: llama.cpp's defaults. */
    @Test
    void modelFileWithDefaults() {
        Tokenizer tiny = TestFiles.ggufTokenizer("gguf/llama-2-tiny-random.gguf");
        assertThat(tiny.vocabulary().model()).isEqualTo(Vocabulary.Model.SENTENCE_PIECE);
        assertThat(tiny.vocabulary().addBos()).isTrue();
        assertThat(tiny.encode("Hello world", tiny.vocabulary().addBos(), false)).containsExactly(1, 15043, 3186);
    }

    @Test
    void phi3VocabHasItsTurnMarkers() {
        Tokenizer phi3 = TestFiles.ggufTokenizer("gguf/vocab/ggml-vocab-phi-3.gguf");
        assertThat(phi3.piece(32007)).isEqualTo("<|end|>");
        assertThat(phi3.stopTokens()).contains(32000, 32007);
        assertThat(phi3.encode("<|user|>\nHi<|end|>", false, true)).startsWith(32010).endsWith(32007);
        String text = TestFiles.wikiText(20_000);
        assertThat(phi3.decode(phi3.encode(text, true, false))).isEqualTo(text);
    }

    @Test
    void unsupportedModelsAreNamed() {
        assertThatThrownBy(() -> TestFiles.ggufTokenizer("gguf/vocab/ggml-vocab-bert-bge.gguf"))
                .isInstanceOf(UnsupportedTokenizerException.class)
                .hasMessageContaining("'bert'").hasMessageContaining("ggml-vocab-bert-bge.gguf");
        GgufMetadata deepseek = TestFiles.ggufMetadata("gguf/vocab/ggml-vocab-deepseek-llm.gguf");
        Map<String, GgufValue> unknownPre = new LinkedHashMap<>(deepseek.asMap());
        unknownPre.put("tokenizer.ggml.pre", GgufValue.ofString("no-such-pre"));
        assertThatThrownBy(() -> Tokenizers.fromGguf(new GgufMetadata(unknownPre, "x.gguf"), "x.gguf"))
                .isInstanceOf(UnsupportedTokenizerException.class)
                .hasMessageContaining("'no-such-pre'").hasMessageContaining("deepseek-llm");
        Map<String, GgufValue> noTokenizer = Map.of("general.architecture", GgufValue.ofString("llama"));
        assertThatThrownBy(() -> Tokenizers.fromGguf(new GgufMetadata(noTokenizer, "x.gguf"), "x.gguf"))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("tokenizer.ggml.model");
    }

    @Test
    void badMetadataIsATypedError() {
        GgufMetadata spm = TestFiles.ggufMetadata("gguf/vocab/ggml-vocab-llama-spm.gguf");
        Map<String, GgufValue> values = new LinkedHashMap<>(spm.asMap());
        values.put("tokenizer.ggml.token_type", GgufValue.ofArray(GgufArray.ofInt32s(new int[] {1, 2, 3})));
        assertThatThrownBy(() -> Tokenizers.fromGguf(new GgufMetadata(values, "bad.gguf"), "bad.gguf"))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("bad.gguf").hasMessageContaining("3 entries");
        values.put("tokenizer.ggml.token_type", GgufValue.ofString("oops"));
        assertThatThrownBy(() -> Tokenizers.fromGguf(new GgufMetadata(values, "bad.gguf"), "bad.gguf"))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("tokenizer.ggml.token_type");
    }

    /** What we write for a SentencePiece vocabulary is what llama.cpp's converter wrote: same keys, types, values. */
    @Test
    void sentencePieceMetadataIsWrittenAsLlamaCppDoes() {
        GgufMetadata original = TestFiles.ggufMetadata("gguf/vocab/ggml-vocab-llama-spm.gguf");
        Map<String, GgufValue> written = GgufTokenizerMetadata.write(GgufTokenizerMetadata.read(original, "spm"));
        Map<String, GgufValue> expected = new LinkedHashMap<>();
        original.asMap().forEach((k, v) -> {
            if (k.startsWith("tokenizer.")) {
                expected.put(k, v);
            }
        });
        assertThat(written.keySet()).containsExactlyElementsOf(expected.keySet());
        expected.forEach((key, value) -> {
            GgufValue ours = written.get(key);
            assertThat(ours.type()).as(key).isEqualTo(value.type());
            if (value.value() instanceof GgufArray array) {
                GgufArray ourArray = (GgufArray) ours.value();
                assertThat(ourArray.elementType()).as(key).isEqualTo(array.elementType());
                assertThat(ourArray.values()).as(key).isEqualTo(array.values());
            } else {
                assertThat(ours.value()).as(key).isEqualTo(value.value());
            }
        });
    }

    /** Llama 3 from tokenizer.json, written into a GGUF file, read back: the same tokenizer. */
    @Test
    void llama3ThroughAGgufFile(@TempDir Path dir) throws IOException {
        Tokenizer fromJson = TestFiles.llama3();
        Map<String, GgufValue> entries = GgufTokenizerMetadata.write(fromJson.vocabulary());
        assertThat(entries.get("tokenizer.ggml.model").value()).isEqualTo("gpt2");
        assertThat(entries.get("tokenizer.ggml.pre").value()).isEqualTo("llama-bpe");
        assertThat(entries.get("tokenizer.ggml.bos_token_id")).isEqualTo(GgufValue.ofUInt32(128_000));
        assertThat(entries.get("tokenizer.ggml.eos_token_id")).isEqualTo(GgufValue.ofUInt32(128_001));
        assertThat(entries.get("tokenizer.ggml.add_bos_token")).isEqualTo(GgufValue.ofBool(true));
        assertThat(((GgufArray) entries.get("tokenizer.ggml.token_type").value()).elementType()).isEqualTo(GgufValueType.INT32);
        assertThat(((GgufArray) entries.get("tokenizer.ggml.merges").value()).elementType()).isEqualTo(GgufValueType.STRING);
        assertThat(entries).doesNotContainKey("tokenizer.ggml.scores");
        assertThat(entries.get("tokenizer.chat_template").value()).isEqualTo(fromJson.vocabulary().chatTemplate());

        GgufWriter writer = new GgufWriter();
        writer.putString("general.architecture", "llama");
        entries.forEach(writer::put);
        Path file = dir.resolve("llama3-vocab.gguf");
        writer.write(file, (i, n, name, done, total) -> { });
        try (GgufFile gguf = GgufFile.open(file)) {
            Tokenizer fromGguf = Tokenizers.fromGguf(gguf.metadata(), file.toString());
            String text = TestFiles.wikiText(100_000) + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>";
            assertThat(fromGguf.encode(text, true, true)).containsExactly(fromJson.encode(text, true, true));
            assertThat(fromGguf.stopTokens()).isEqualTo(fromJson.stopTokens());
            assertThat(fromGguf.vocabulary().special()).isEqualTo(fromJson.vocabulary().special());
        }
    }

    /** The stories260K vocabulary as GGUF metadata: SentencePiece that llama.cpp loads ("llama" model). */
    @Test
    void llama2cVocabularyAsGguf() {
        Tokenizer llama2c = Tokenizers.fromLlama2c(TestFiles.file("llama2c/tok512.bin"));
        Map<String, GgufValue> entries = GgufTokenizerMetadata.write(llama2c.vocabulary());
        assertThat(entries.get("tokenizer.ggml.model").value()).isEqualTo("llama");
        assertThat(((GgufArray) entries.get("tokenizer.ggml.scores").value()).elementType()).isEqualTo(GgufValueType.FLOAT32);
        Tokenizer fromGguf = Tokenizers.fromGguf(new GgufMetadata(entries, "stories.gguf"), "stories.gguf");
        assertThat(fromGguf.vocabulary().model()).isEqualTo(Vocabulary.Model.SENTENCE_PIECE);
        Map<String, Integer> differences = new HashMap<>();
        for (String line : List.of(TestFiles.wikiText(40_000).split("\n"))) {
            if (!java.util.Arrays.equals(fromGguf.encode(line, true, false), llama2c.encode(line, true, false))) {
                differences.merge("lines", 1, Integer::sum);
            }
        }
        assertThat(differences).isEmpty();
    }
}
