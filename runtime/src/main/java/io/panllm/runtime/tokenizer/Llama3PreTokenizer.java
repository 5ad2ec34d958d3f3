package io.panllm.runtime.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * The Llama 3 pre-tokenizer, a hand-written matcher for the regex
 * <pre>
 * (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * </pre>
 * (as llama.cpp's unicode_regex_split_custom_llama3 does it): one linear pass over the code
 * points, no backtracking whatever the input. Each branch below is one alternative, tried in the
 * regex's order; Llama3PreTokenizerTest checks it against java.util.regex on real and random text.
 */
final class Llama3PreTokenizer implements PreTokenizer {

    static final String REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    @Override
    public List<String> split(String text) {
        int[] cps = text.codePoints().toArray();
        int n = cps.length;
        List<String> words = new ArrayList<>();
        int pos = 0;
        while (pos < n) {
            int end = matchAt(cps, pos);
            words.add(new String(cps, pos, end - pos));
            pos = end;
        }
        return words;
    }

    /** End of the match that starts at {@code pos} (always past pos). */
    private static int matchAt(int[] cps, int pos) {
        int n = cps.length;
        int cp = cps[pos];

        // (?i:'s|'t|'re|'ve|'m|'ll|'d)
        if (cp == '\'' && pos + 1 < n) {
            int next = CodePoints.toLowerAscii(cps[pos + 1]);
            if (next == 's' || next == 't' || next == 'm' || next == 'd') {
                return pos + 2;
            }
            if (pos + 2 < n) {
                int nextNext = CodePoints.toLowerAscii(cps[pos + 2]);
                if ((next == 'r' || next == 'v') && nextNext == 'e' || next == 'l' && nextNext == 'l') {
                    return pos + 3;
                }
            }
        }

        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (!CodePoints.isLineBreak(cp) && !CodePoints.isNumber(cp)
                && (CodePoints.isLetter(cp) || pos + 1 < n && CodePoints.isLetter(cps[pos + 1]))) {
            int end = pos + 1;
            while (end < n && CodePoints.isLetter(cps[end])) {
                end++;
            }
            return end;
        }

        // \p{N}{1,3}
        if (CodePoints.isNumber(cp)) {
            int end = pos + 1;
            while (end < n && end - pos < 3 && CodePoints.isNumber(cps[end])) {
                end++;
            }
            return end;
        }

        // " ?[^\s\p{L}\p{N}]+[\r\n]*"
        int symbolStart = cp == ' ' ? pos + 1 : pos;
        if (symbolStart < n && CodePoints.isSymbol(cps[symbolStart])) {
            int end = symbolStart + 1;
            while (end < n && CodePoints.isSymbol(cps[end])) {
                end++;
            }
            while (end < n && CodePoints.isLineBreak(cps[end])) {
                end++;
            }
            return end;
        }

        int spaces = 0;
        int afterLastLineBreak = -1;
        while (pos + spaces < n && CodePoints.isWhitespace(cps[pos + spaces])) {
            if (CodePoints.isLineBreak(cps[pos + spaces])) {
                afterLastLineBreak = pos + spaces + 1;
            }
            spaces++;
        }
        // \s*[\r\n]+ : the whitespace run up to its last line break
        if (afterLastLineBreak >= 0) {
            return afterLastLineBreak;
        }
        // \s+(?!\S) : a run followed by a non-space leaves its last space to that word
        if (spaces > 1 && pos + spaces < n) {
            return pos + spaces - 1;
        }
        // \s+
        if (spaces > 0) {
            return pos + spaces;
        }
        return pos + 1; // no alternative matches (cannot happen: every code point is in some class)
    }
}
