package io.panllm.runtime.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The real Llama 3 tokenizer (tokenizer.json): 128,000 BPE tokens + 256 special ones. */
class Llama3TokenizerTest {
    private static Tokenizer tokenizer;

    @BeforeAll
    static void load() {
        tokenizer = TestFiles.llama3();
    }

    private static int[] encode(String text) {
        return tokenizer.encode(text, false, false);
    }

    @Test
    void vocabularyShape() {
        assertThat(tokenizer.vocabSize()).isEqualTo(128_256);
        assertThat(tokenizer.vocabulary().merges()).hasSize(280_147);
        assertThat(tokenizer.type(127_999)).isEqualTo(TokenType.NORMAL);
        for (int id = 128_000; id < 128_256; id++) {
            assertThat(tokenizer.type(id)).as("type of %d", id).isEqualTo(TokenType.CONTROL);
        }
        assertThat(tokenizer.bos()).isEqualTo(128_000); // <|begin_of_text|>, from tokenizer_config.json
        assertThat(tokenizer.eos()).isEqualTo(128_001); // <|end_of_text|>
        assertThat(tokenizer.vocabulary().special().eot()).isEqualTo(128_009);
        assertThat(tokenizer.stopTokens()).containsExactlyInAnyOrder(128_001, 128_009); // Llama 3.0 has no <|eom_id|>
        assertThat(tokenizer.vocabulary().addBos()).isTrue();
        assertThat(tokenizer.vocabulary().chatTemplate()).contains("<|start_header_id|>");
    }

    /**
     * Ids of common words. Llama 3's first 100,000 tokens are OpenAI's cl100k_base in the same
     * order, where these ids are well known: "!" is 0, "Hello" 9906, " the" 279.
     */
    @Test
    void commonWords() {
        assertThat(encode("Hello world")).containsExactly(9906, 1917);
        assertThat(encode(" Hello")).containsExactly(22691);
        assertThat(encode("!")).containsExactly(0);
        assertThat(encode(",")).containsExactly(11);
        assertThat(encode(".")).containsExactly(13);
        assertThat(encode(" the")).containsExactly(279);
        assertThat(encode(" a")).containsExactly(264);
        assertThat(encode(" to")).containsExactly(311);
        assertThat(encode(" of")).containsExactly(315);
        assertThat(encode(" in")).containsExactly(304);
        assertThat(encode(" and")).containsExactly(323);
        assertThat(encode(" is")).containsExactly(374);
        assertThat(encode(" that")).containsExactly(430);
        assertThat(encode(" The")).containsExactly(578);
        assertThat(encode("the")).containsExactly(1820);
        assertThat(encode(" ")).containsExactly(220);
        assertThat(encode("\n")).containsExactly(198);
        assertThat(encode("\n\n")).containsExactly(271);
    }

    /** Expected ids from a separate Python implementation (regex module + tokenizer.json merges). */
    @Test
    void sentences() {
        assertThat(encode("The quick brown fox jumps over the lazy dog."))
                .containsExactly(791, 4062, 14198, 39935, 35308, 927, 279, 16053, 5679, 13);
        assertThat(encode("Hello, y'all! How are you 😁 ?我想在apple工作1314151天～")).containsExactly(
                9906, 11, 379, 65948, 0, 2650, 527, 499, 27623, 223, 949, 37046, 101067, 19000, 23182, 102301, 9263, 18136, 16,
                36827, 21909);
        assertThat(encode("   multiple   spaces\n\n\nnewlines\r\n")).containsExactly(256, 5361, 256, 12908, 1432, 943, 8128, 319);
        assertThat(encode("I'M SURE he'LL")).containsExactly(40, 28703, 328, 4622, 568, 6, 4178);
    }

    @Test
    void digitsGoInGroupsOfAtMostThree() {
        int[] ids = encode(" 1234567");
        assertThat(ids).containsExactly(220, 4513, 10961, 22);
        assertThat(tokenizer.piece(4513)).isEqualTo("123");
        assertThat(tokenizer.piece(10961)).isEqualTo("456");
        assertThat(tokenizer.piece(22)).isEqualTo("7");
        for (String digits : new String[] {"0", "42", "999", "2024", "31415926"}) {
            int[] tokens = encode(digits);
            assertThat(tokens).hasSize((digits.length() + 2) / 3);
            for (int t : tokens) {
                assertThat(tokenizer.piece(t).length()).isBetween(1, 3);
            }
        }
    }

    @Test
    void specialTokensOnlyWhenAsked() {
        assertThat(tokenizer.encode("<|begin_of_text|>", false, true)).containsExactly(128_000);
        int[] spelled = tokenizer.encode("<|begin_of_text|>", false, false);
        assertThat(spelled.length).isGreaterThan(1);
        assertThat(Arrays.stream(spelled).max().getAsInt()).isLessThan(128_000);
        assertThat(tokenizer.decode(spelled)).isEqualTo("<|begin_of_text|>");

        String prompt = "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>";
        assertThat(tokenizer.encode(prompt, true, true)).containsExactly(128_000, 128_006, 882, 128_007, 271, 13347, 128_009);
        assertThat(tokenizer.piece(882)).isEqualTo("user");
        assertThat(tokenizer.piece(13347)).isEqualTo("Hi");
        assertThat(tokenizer.decode(tokenizer.encode(prompt, true, true), true)).isEqualTo("<|begin_of_text|>" + prompt);
        assertThat(tokenizer.decode(tokenizer.encode(prompt, true, true))).isEqualTo("user\n\nHi");
    }

    @Test
    void bytesOfTokens() {
        assertThat(tokenizer.piece(22691)).isEqualTo("\u0120Hello");
        assertThat(tokenizer.tokenBytes(22691)).isEqualTo(" Hello".getBytes(StandardCharsets.UTF_8));
        assertThat(tokenizer.tokenBytes(128_009)).isEqualTo("<|eot_id|>".getBytes(StandardCharsets.UTF_8));
        // 😁 is F0 9F 98 81: its tokens carry parts of the UTF-8 sequence
        int[] emoji = encode("😁");
        assertThat(emoji.length).isGreaterThan(1);
        byte[] joined = new byte[0];
        for (int id : emoji) {
            byte[] b = tokenizer.tokenBytes(id);
            joined = Arrays.copyOf(joined, joined.length + b.length);
            System.arraycopy(b, 0, joined, joined.length - b.length, b.length);
        }
        assertThat(joined).isEqualTo("😁".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void wikiTextRoundTrips() {
        String text = TestFiles.wikiText(200_000);
        int[] ids = tokenizer.encode(text, false, false);
        assertThat(ids.length).isBetween(text.length() / 6, text.length() / 3);
        assertThat(tokenizer.decode(ids)).isEqualTo(text);
    }

    @Test
    void wholeWikiTestSetInAFewSeconds() {
        String text = TestFiles.wikiText(Integer.MAX_VALUE);
        assertThat(text.length()).isGreaterThan(1_200_000);
        Tokenizer fresh = Tokenizers.create(tokenizer.vocabulary()); // an empty word cache
        long start = System.nanoTime();
        int[] ids = fresh.encode(text, true, false);
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("Llama 3 BPE: %d bytes of wiki.test.raw -> %d tokens in %.2f s%n",
                text.getBytes(StandardCharsets.UTF_8).length, ids.length, seconds);
        assertThat(seconds).isLessThan(5.0);
        assertThat(fresh.decode(ids)).isEqualTo(text);
    }

    @Test
    void invalidUtf8IsRejectedWithItsOffset() {
        byte[] bad = {'o', 'k', ' ', (byte) 0xC3, '(', 'x'};
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> tokenizer.encode(bad, false, false))
                .isInstanceOf(InvalidUtf8Exception.class)
                .hasMessageContaining("offset 3")
                .satisfies(e -> assertThat(((InvalidUtf8Exception) e).offset()).isEqualTo(3));
        byte[] good = "ok é".getBytes(StandardCharsets.UTF_8);
        assertThat(tokenizer.encode(good, false, false)).containsExactly(encode("ok é"));
    }
}
