package io.panllm.runtime.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A pre-tokenizer given as llama.cpp gives most of them: a list of regexes applied one after the
 * other (unicode_regex_split). Each regex cuts every word the previous ones produced into its
 * matches and the text between them, which stays as words of its own; a regex sees one word at a
 * time, so {@code $} is the end of that word.
 *
 * <p>The regexes are written as llama.cpp has them and run with Java's Unicode classes:
 * {@code \s} is the White_Space property (llama.cpp maps non-ASCII white space to one that its
 * std::regex matches), {@code \p{L}}, {@code \p{N}}, {@code \p{P}}, {@code \p{S}},
 * {@code \p{M}} the general categories (llama.cpp collapses each non-ASCII code point to a
 * stand-in of its category, which these classes match as the categories themselves).
 */
final class RegexPreTokenizer implements PreTokenizer {
    private final List<Pattern> patterns;

    RegexPreTokenizer(List<String> regexes) {
        this.patterns = regexes.stream().map(RegexPreTokenizer::compile).toList();
    }

    /** ECMAScript's {@code $} (no multiline) is the very end: Java's {@code \z}. */
    static Pattern compile(String regex) {
        StringBuilder java = new StringBuilder();
        boolean inClass = false;
        for (int i = 0; i < regex.length(); i++) {
            char c = regex.charAt(i);
            if (c == '\\' && i + 1 < regex.length()) {
                java.append(c).append(regex.charAt(++i));
                continue;
            }
            if (c == '[') {
                inClass = true;
            } else if (c == ']') {
                inClass = false;
            }
            java.append(c == '$' && !inClass ? "\\z" : String.valueOf(c));
        }
        return Pattern.compile(java.toString(), Pattern.UNICODE_CHARACTER_CLASS);
    }

    @Override
    public List<String> split(String text) {
        List<String> words = List.of(text);
        for (Pattern pattern : patterns) {
            List<String> next = new ArrayList<>();
            for (String word : words) {
                Matcher m = pattern.matcher(word);
                int end = 0;
                while (m.find()) {
                    if (m.end() == m.start()) {
                        continue; // an empty match cuts nothing
                    }
                    if (m.start() > end) {
                        next.add(word.substring(end, m.start()));
                    }
                    next.add(m.group());
                    end = m.end();
                }
                if (end < word.length()) {
                    next.add(word.substring(end));
                }
            }
            words = next;
        }
        return words;
    }
}
