package io.panllm.runtime.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * The GPT-2 pre-tokenizer, a hand-written matcher for the regex
 * <pre>
 * 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * </pre>
 * in one linear pass (llama.cpp's unicode_regex_split_custom_gpt2); checked against
 * java.util.regex in Gpt2PreTokenizerTest.
 */
final class Gpt2PreTokenizer implements PreTokenizer {

    static final String REGEX = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    @Override
    public List<String> split(String text) {
        int[] cps = text.codePoints().toArray();
        List<String> words = new ArrayList<>();
        int pos = 0;
        while (pos < cps.length) {
            int end = matchAt(cps, pos);
            words.add(new String(cps, pos, end - pos));
            pos = end;
        }
        return words;
    }

    private static int matchAt(int[] cps, int pos) {
        int n = cps.length;
        int cp = cps[pos];

        // 's|'t|'re|'ve|'m|'ll|'d (case-sensitive in GPT-2)
        if (cp == '\'' && pos + 1 < n) {
            int next = cps[pos + 1];
            if (next == 's' || next == 't' || next == 'm' || next == 'd') {
                return pos + 2;
            }
            if (pos + 2 < n) {
                int nextNext = cps[pos + 2];
                if ((next == 'r' || next == 'v') && nextNext == 'e' || next == 'l' && nextNext == 'l') {
                    return pos + 3;
                }
            }
        }

        // " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+": an optional space, then a run of one class
        int start = cp == ' ' ? pos + 1 : pos;
        if (start < n) {
            int first = cps[start];
            int end = start + 1;
            if (CodePoints.isLetter(first)) {
                while (end < n && CodePoints.isLetter(cps[end])) {
                    end++;
                }
                return end;
            }
            if (CodePoints.isNumber(first)) {
                while (end < n && CodePoints.isNumber(cps[end])) {
                    end++;
                }
                return end;
            }
            if (CodePoints.isSymbol(first)) {
                while (end < n && CodePoints.isSymbol(cps[end])) {
                    end++;
                }
                return end;
            }
        }

        int spaces = 0;
        while (pos + spaces < n && CodePoints.isWhitespace(cps[pos + spaces])) {
            spaces++;
        }
        // \s+(?!\S)
        if (spaces > 1 && pos + spaces < n) {
            return pos + spaces - 1;
        }
        // \s+
        if (spaces > 0) {
            return pos + spaces;
        }
        return pos + 1;
    }
}
