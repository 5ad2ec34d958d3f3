package io.panllm.runtime.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Llama 2 SentencePiece vocabulary against llama.cpp's own test vectors. */
class SentencePieceVocabTest {
    private static final String VOCAB = "gguf/vocab/ggml-vocab-llama-spm.gguf";
    private static Tokenizer tokenizer;

    @BeforeAll
    static void load() {
        tokenizer = TestFiles.ggufTokenizer(VOCAB);
    }

    private record Case(String text, int[] expected) {
    }

    /**
     * llama.cpp's test-tokenizer-0 format: the .inp file holds the inputs, each followed by the
     * line "__ggml_vocab_test__"; the .out file holds one line of space-separated ids per input.
     * The cases are encoded without BOS and without special-token parsing.
     */
    private static List<Case> cases() throws IOException {
        String inp = Files.readString(TestFiles.file(VOCAB + ".inp"), StandardCharsets.UTF_8);
        List<String> out = Files.readAllLines(TestFiles.file(VOCAB + ".out"), StandardCharsets.UTF_8);
        String separator = "\n__ggml_vocab_test__\n";
        List<String> inputs = new ArrayList<>();
        int pos = 0;
        for (int next; (next = inp.indexOf(separator, pos)) >= 0; pos = next + separator.length()) {
            inputs.add(inp.substring(pos, next));
        }
        assertThat(inputs).hasSize(out.size());
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            String line = out.get(i).strip();
            int[] ids = line.isEmpty() ? new int[0] : Arrays.stream(line.split(" +")).mapToInt(Integer::parseInt).toArray();
            cases.add(new Case(inputs.get(i), ids));
        }
        return cases;
    }

    @Test
    void everyLlamaCppVectorMatches() throws IOException {
        List<Case> cases = cases();
        assertThat(cases).hasSizeGreaterThan(40);
        for (Case c : cases) {
            assertThat(tokenizer.encode(c.text(), false, false)).as("encode %s", quoted(c.text())).containsExactly(c.expected());
        }
    }

    @Test
    void everyVectorDecodesBackToItsText() throws IOException {
        for (Case c : cases()) {
            assertThat(tokenizer.decode(c.expected())).as("decode %s", quoted(c.text())).isEqualTo(c.text());
        }
    }

    @Test
    void bosAndLeadingSpace() {
        assertThat(tokenizer.encode("Hello world", true, false)).containsExactly(1, 15043, 3186);
        assertThat(tokenizer.decode(new int[] {1, 15043, 3186})).isEqualTo("Hello world");
        assertThat(tokenizer.decode(new int[] {1, 15043, 3186}, true)).isEqualTo("<s>Hello world");
        assertThat(tokenizer.encode("", true, false)).containsExactly(1);
        assertThat(tokenizer.encode("", false, false)).isEmpty();
    }

    @Test
    void controlTokensAreParsedOnlyWhenAsked() {
        // With parsing, "</s>" is EOS and the text after it gets its own space prefix, as in llama.cpp.
        assertThat(tokenizer.encode("Hi</s>Hi", false, true)).containsExactly(6324, 2, 6324);
        int[] spelled = tokenizer.encode("Hi</s>Hi", false, false);
        assertThat(spelled).doesNotContain(2);
        assertThat(tokenizer.decode(spelled)).isEqualTo("Hi</s>Hi");
        assertThat(tokenizer.decode(new int[] {6324, 2, 6324}, true)).isEqualTo("Hi</s>Hi");
    }

    @Test
    void bytesOfPieces() {
        assertThat(tokenizer.piece(15043)).isEqualTo("\u2581Hello");
        assertThat(tokenizer.tokenBytes(15043)).isEqualTo(" Hello".getBytes(StandardCharsets.UTF_8));
        assertThat(tokenizer.tokenBytes(13)).containsExactly(0x0A); // <0x0A>
        assertThat(tokenizer.type(13)).isEqualTo(TokenType.BYTE);
        assertThat(tokenizer.vocabSize()).isEqualTo(32000);
        assertThat(tokenizer.bos()).isEqualTo(1);
        assertThat(tokenizer.eos()).isEqualTo(2);
        assertThat(tokenizer.stopTokens()).containsExactly(2);
    }

    @Test
    void wikiTextRoundTrips() {
        String text = TestFiles.wikiText(200_000);
        int[] ids = tokenizer.encode(text, true, false);
        assertThat(ids.length).isBetween(text.length() / 6, text.length() / 2);
        assertThat(tokenizer.decode(ids)).isEqualTo(text);
    }

    /** Word-by-word encoding (with its cache) gives what one merge loop over the whole text gives. */
    @Test
    void wordByWordEqualsWholeText() {
        String text = TestFiles.wikiText(100_000) + " ▁x▁▁y  z\u2581 日本語 🦙🦙 ";
        Tokenizer whole = new SentencePieceTokenizer(tokenizer.vocabulary(), false);
        assertThat(tokenizer.encode(text, true, false)).containsExactly(whole.encode(text, true, false));
        Tokenizer llama2c = Tokenizers.fromLlama2c(TestFiles.file("llama2c/tok512.bin"));
        Tokenizer llama2cWhole = new SentencePieceTokenizer(llama2c.vocabulary(), false);
        assertThat(llama2c.encode(text, true, false)).containsExactly(llama2cWhole.encode(text, true, false));
    }

    static String quoted(String s) {
        StringBuilder b = new StringBuilder("\"");
        s.codePoints().forEach(cp -> b.append(cp < 0x20 ? String.format("\\x%02x", cp) : Character.toString(cp)));
        return b.append('"').toString();
    }
}
