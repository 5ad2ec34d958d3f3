package io.panllm.runtime.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The hand-written splitters against java.util.regex running the very regexes. java.util.regex
 * agrees only with UNICODE_CHARACTER_CLASS: without it {@code \s} is ASCII-only, so U+00A0 or
 * U+3000 would count as symbols. (That flag also makes {@code (?i)} fold U+017F "ſ" to "s",
 * which neither tokenizers nor llama.cpp do; the random alphabet leaves it out.)
 */
class PreTokenizerTest {
    private static final String ALPHABET_POOL = "aZsStTrReEvVmMlLdD'’ \t\r\n\u000B\f\u00A0\u3000\u2003\u0085"
            + "0123456789²½Ⅻ٣.,;!?-_()[]{}\"#$%&*+/<=>@\\^`|~éüßÄ日本語кирил\u0301\u200D";
    private static final int[] EXTRA_CODE_POINTS = {0x1F600, 0x1F999, 0x10400 /* Deseret capital, a letter */, 0x1D7D8 /* math digit */};

    private static List<String> regexSplit(Pattern pattern, String text) {
        List<String> words = new ArrayList<>();
        Matcher m = pattern.matcher(text);
        int end = 0;
        while (m.find()) {
            assertThat(m.start()).as("regex left a gap in %s", text).isEqualTo(end);
            words.add(m.group());
            end = m.end();
        }
        assertThat(end).isEqualTo(text.length());
        return words;
    }

    private static String randomText(Random random, int length) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < length; i++) {
            if (random.nextInt(20) == 0) {
                b.appendCodePoint(EXTRA_CODE_POINTS[random.nextInt(EXTRA_CODE_POINTS.length)]);
            } else {
                b.append(ALPHABET_POOL.charAt(random.nextInt(ALPHABET_POOL.length())));
            }
        }
        return b.toString();
    }

    private static void checkAgainstRegex(PreTokenizer splitter, String regex) {
        Pattern pattern = Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
        String wiki = TestFiles.wikiText(300_000);
        assertThat(splitter.split(wiki)).isEqualTo(regexSplit(pattern, wiki));
        Random random = new Random(42);
        for (int i = 0; i < 3000; i++) {
            String text = randomText(random, 1 + random.nextInt(40));
            assertThat(splitter.split(text)).as("split %s", LlamaCppVectorsTest.quoted(text)).isEqualTo(regexSplit(pattern, text));
        }
    }

    @Test
    void llama3SplitterIsTheLlama3Regex() {
        checkAgainstRegex(new Llama3PreTokenizer(), Llama3PreTokenizer.REGEX);
    }

    @Test
    void gpt2SplitterIsTheGpt2Regex() {
        checkAgainstRegex(new Gpt2PreTokenizer(), Gpt2PreTokenizer.REGEX);
    }

    @Test
    void examples() {
        Llama3PreTokenizer llama3 = new Llama3PreTokenizer();
        assertThat(llama3.split("I'M here,  you're 12345 ok!!\n\n  x"))
                .containsExactly("I", "'M", " here", ",", " ", " you", "'re", " ", "123", "45", " ok", "!!\n\n", " ", " x");
        assertThat(new Gpt2PreTokenizer().split("I'M here,  you're 12345"))
                .containsExactly("I", "'", "M", " here", ",", " ", " you", "'re", " 12345");
    }

    @Test
    void javaRegexNeedsUnicodeClasses() {
        String text = "a\u3000\u3000b";
        Pattern asciiSpaces = Pattern.compile(Llama3PreTokenizer.REGEX);
        assertThat(regexSplit(asciiSpaces, text)).isNotEqualTo(new Llama3PreTokenizer().split(text));
        assertThat(new Llama3PreTokenizer().split(text)).containsExactly("a", "\u3000", "\u3000b");
    }

    @Test
    void longRunsStayLinear() {
        String spaces = " ".repeat(200_000) + "x" + "\n ".repeat(100_000) + "'".repeat(100_000);
        long start = System.nanoTime();
        List<String> words = new Llama3PreTokenizer().split(spaces);
        assertThat((System.nanoTime() - start) / 1e9).isLessThan(2.0);
        assertThat(String.join("", words)).isEqualTo(spaces);
    }
}
