package io.panllm.runtime.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Cuts input text at the special tokens it contains (leftmost match first, the longest one where
 * several start at the same place), so that "&lt;|eot_id|&gt;" in a chat prompt becomes one token
 * instead of being spelled out. A token with llama.cpp's lstrip or rstrip attribute takes the
 * white space before or after it along (C's isspace, as llama.cpp's tokenizer_st_partition).
 */
final class SpecialTokenMatcher {

    /** A piece of input: raw text to tokenize, or a special token ({@code token >= 0}). */
    record Fragment(String text, int token) {
        boolean isToken() {
            return token >= 0;
        }
    }

    private record Candidate(String text, int id, boolean lstrip, boolean rstrip) {
    }

    /** Candidates by their first character, longest first. */
    private final Map<Character, List<Candidate>> byFirstChar = new HashMap<>();

    /**
     * @param includeControl also match control and unknown tokens (user-defined ones are always
     *                       matched, as llama.cpp and HF tokenizers do)
     */
    SpecialTokenMatcher(Vocabulary vocab, boolean includeControl) {
        for (int id = 0; id < vocab.size(); id++) {
            TokenType type = vocab.type(id);
            boolean matched = type == TokenType.USER_DEFINED
                    || includeControl && (type == TokenType.CONTROL || type == TokenType.UNKNOWN);
            String text = vocab.tokens().get(id);
            if (matched && !text.isEmpty()) {
                byFirstChar.computeIfAbsent(text.charAt(0), c -> new ArrayList<>()).add(new Candidate(text, id,
                        vocab.strips(id, Vocabulary.LSTRIP), vocab.strips(id, Vocabulary.RSTRIP)));
            }
        }
        for (List<Candidate> list : byFirstChar.values()) {
            list.sort(Comparator.comparingInt((Candidate c) -> c.text().length()).reversed());
        }
    }

    List<Fragment> split(String text) {
        List<Fragment> fragments = new ArrayList<>();
        if (byFirstChar.isEmpty()) {
            fragments.add(new Fragment(text, -1));
            return fragments;
        }
        int rawStart = 0;
        int pos = 0;
        while (pos < text.length()) {
            Candidate match = matchAt(text, pos);
            if (match == null) {
                pos++;
                continue;
            }
            int rawEnd = pos;
            while (match.lstrip() && rawEnd > rawStart && isSpace(text.charAt(rawEnd - 1))) {
                rawEnd--;
            }
            if (rawEnd > rawStart) {
                fragments.add(new Fragment(text.substring(rawStart, rawEnd), -1));
            }
            fragments.add(new Fragment(match.text(), match.id()));
            pos += match.text().length();
            while (match.rstrip() && pos < text.length() && isSpace(text.charAt(pos))) {
                pos++;
            }
            rawStart = pos;
        }
        if (rawStart < text.length()) {
            fragments.add(new Fragment(text.substring(rawStart), -1));
        }
        return fragments;
    }

    private static boolean isSpace(char c) {
        return c == ' ' || c >= '\t' && c <= '\r';
    }

    private Candidate matchAt(String text, int pos) {
        List<Candidate> candidates = byFirstChar.get(text.charAt(pos));
        if (candidates != null) {
            for (Candidate c : candidates) {
                if (text.startsWith(c.text(), pos)) {
                    return c;
                }
            }
        }
        return null;
    }
}
