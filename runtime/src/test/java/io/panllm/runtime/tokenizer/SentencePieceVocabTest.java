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
}
