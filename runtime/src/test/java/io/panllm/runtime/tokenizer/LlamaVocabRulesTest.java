package io.panllm.runtime.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * llama.cpp's per-vocabulary rules: the pre-tokenizer chosen by tokenizer.ggml.pre, add_bos and
 * add_eos defaults, token types and white-space attributes. Expected values are derived by hand
 * from llama.cpp's llama_vocab::load, llm_tokenizer_bpe's regex lists and unicode_regex_split.
 */
class LlamaVocabRulesTest {

    private static List<String> split(String pre, String text) {
        return BpePreTokenizers.forName(pre).create().split(text);
    }

    /**
     * deepseek-llm's six regexes, each cutting every word the previous ones made into matches and
     * the text between: [\r\n]; \s? + a run of ASCII and non-lowercase letters; \s? + a run of
     * ASCII punctuation and letters, full-width forms, quotes, CJK stops; \s+$ (the end of a
     * word); CJK and Hangul runs; \p{N}+.
     */
    @Test
    void deepseekLlmSplitsAsItsRegexList() {
        assertThat(split("deepseek-llm", " Hello, World! 123 你好"))
                .containsExactly(" Hello", ",", " World", "!", " ", "123", " ", "你好");
        assertThat(split("deepseek-llm", "a\n\nb  ")).containsExactly("a", "\n", "\n", "b", "  ");
        assertThat(split("deepseek-llm", "x=1.5e3;  y")).containsExactly("x", "=", "1", ".", "5", "e", "3", ";", " ", " y");
        // é (U+00E9) is in the letter class, so " café" is one word of regex 2; regex 3 then takes
        // " caf" out of it (ASCII letters lie in its !-~ ranges) and leaves "é" on its own
        assertThat(split("deepseek-llm", " café")).containsExactly(" caf", "é");
        // Ohm sign and Kelvin sign are letters of the class; digits other than ASCII are \p{N}
        assertThat(split("deepseek-llm", "\u2126\u212A \u0663\u0664")).containsExactly("\u2126\u212A", " ", "\u0663\u0664");
    }

    @Test
    void deepseekLlmVocabTokenizes() {
        Tokenizer deepseek = TestFiles.ggufTokenizer("gguf/vocab/ggml-vocab-deepseek-llm.gguf");
        assertThat(deepseek.vocabulary().preTokenizer()).isEqualTo("deepseek-llm");
        String text = "Hello, World! 123 你好\n\tdone  ";
        int[] ids = deepseek.encode(text, false, false);
        assertThat(deepseek.decode(ids)).isEqualTo(text);
        // one token per word of the split where the vocabulary has it whole
        assertThat(deepseek.piece(ids[0])).isEqualTo("Hello");
        assertThat(deepseek.decode(new int[] {ids[1]})).isEqualTo(",");
        assertThat(deepseek.encode(text, true, false)[0]).isEqualTo(100_000); // add_bos_token = true in the file
        String wiki = TestFiles.wikiText(20_000);
        assertThat(deepseek.decode(deepseek.encode(wiki, false, false))).isEqualTo(wiki);
    }

    @ParameterizedTest
    @CsvSource(delimiterString = " => ", value = {
            // Qwen2: Llama 3's split with single digits
            "qwen2 => 'Hi 1234 you''re' => Hi| |1|2|3|4| you|'re",
            // deepseek-coder: \s?\p{L}+, \s?\p{P}+, CJK, single digits
            "deepseek-coder => ' Ünïcødé café. 12' => ' Ünïcødé| café|.| |1|2'",
            // llama.cpp's default list: punctuation runs first, then GPT-2's regex, digit runs, and
            // [0-9][0-9][0-9] cutting "12345" into its match and the rest
            "default => 'it''s 12345 x+y' => it|'|s| |123|45| x|+|y",
            // Llama 3: digits in threes
            "llama-bpe => 'x 12345' => x| |123|45",
    })
    void otherPreTokenizersSplitAsTheirRegexes(String pre, String text, String words) {
        assertThat(split(pre, text)).as(pre).containsExactly(words.split("\\|", -1));
    }

    @Test
    void qwen2KeepsLineBreaksTogether() {
        assertThat(split("qwen2", "a\n\nb  ")).containsExactly("a", "\n\n", "b", "  ");
    }

    @Test
    void gpt2AddsNoBosAndLlamaBpeDoes() {
        Tokenizer gpt2 = TestFiles.ggufTokenizer("gguf/vocab/ggml-vocab-gpt-2.gguf");
        assertThat(gpt2.vocabulary().addBos()).isFalse();
        assertThat(gpt2.encode("Hello world", true, false)).containsExactly(15496, 995); // llama.cpp adds none
        assertThat(BpePreTokenizers.forName("gpt-2").addBosByDefault()).isFalse();
        assertThat(BpePreTokenizers.forName("llama-bpe").addBosByDefault()).isTrue();
        assertThat(BpePreTokenizers.forName("deepseek-llm").addBosByDefault()).isFalse();
        assertThat(BpePreTokenizers.forName("llama-bpe").ignoreMerges()).isTrue();
        assertThat(BpePreTokenizers.forName("qwen2").ignoreMerges()).isFalse();
    }

    /**
     * phi-3: llama.cpp makes "&lt;/s&gt;" (user-defined in the file) a control token, as an
     * end-of-generation text, and gives Phi-3's special tokens but &lt;unk&gt;, &lt;s&gt; and
     * &lt;|endoftext|&gt; the rstrip attribute. So in "&lt;s&gt; &lt;/s&gt; &lt;unk&gt;" the space
     * after &lt;/s&gt; goes, the one after &lt;s&gt; stays ("▁▁" with the space prefix after a special).
     */
    @Test
    void phi3SpecialsAndTheirWhiteSpace() {
        Tokenizer phi3 = TestFiles.ggufTokenizer("gguf/vocab/ggml-vocab-phi-3.gguf");
        assertThat(phi3.type(2)).isEqualTo(TokenType.CONTROL);
        assertThat(phi3.piece(259)).isEqualTo("\u2581\u2581");
        assertThat(phi3.encode("<s> </s> <unk>", false, true)).containsExactly(1, 259, 2, 0);
        assertThat(phi3.encode("<|user|>  hi <|end|>  x", false, true)).containsExactly(32010, 7251, 29871, 32007, 921);
        // a control token is spelled out when special tokens are not parsed
        assertThat(phi3.encode("</s>", false, false)).doesNotContain(2);
        assertThat(phi3.decode(new int[] {2})).isEmpty();
        assertThat(phi3.stopTokens()).contains(2, 32000, 32007);
    }

    @Test
    void rulesFollowTheModelNameNotTheFile() {
        Vocabulary phi3 = TestFiles.ggufTokenizer("gguf/vocab/ggml-vocab-phi-3.gguf").vocabulary();
        Vocabulary renamed = LlamaVocabRules.apply(phi3.withTypes(phi3.types(), null), "some-llama");
        assertThat(new SentencePieceTokenizer(renamed).encode("<s> </s> <unk>", false, true)).containsExactly(1, 259, 2, 259, 0);
        assertThat(renamed.strips(2, Vocabulary.RSTRIP)).isFalse();
        assertThat(phi3.strips(2, Vocabulary.RSTRIP)).isTrue();
        assertThat(phi3.strips(1, Vocabulary.RSTRIP)).isFalse();
    }
}
