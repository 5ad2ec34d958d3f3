package io.panllm.runtime.tokenizer;

/**
 * The character classes the pre-tokenizer regexes use, for code points: {@code \p{L}},
 * {@code \p{N}} and {@code \s} as Unicode (and llama.cpp's unicode tables) define them, not
 * java.util.regex's ASCII-only default for {@code \s}.
 */
final class CodePoints {
    private CodePoints() {
    }

    /** {@code \p{L}}: general categories Lu, Ll, Lt, Lm, Lo. */
    static boolean isLetter(int cp) {
        return Character.isLetter(cp);
    }

    /** {@code \p{N}}: general categories Nd, Nl, No. */
    static boolean isNumber(int cp) {
        int type = Character.getType(cp);
        return type == Character.DECIMAL_DIGIT_NUMBER || type == Character.LETTER_NUMBER || type == Character.OTHER_NUMBER;
    }

    /** {@code \s}: the Unicode White_Space property. */
    static boolean isWhitespace(int cp) {
        return switch (cp) {
            case '\t', '\n', 0x0B, '\f', '\r', ' ', 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000 -> true;
            default -> cp >= 0x2000 && cp <= 0x200A;
        };
    }

    /** {@code [^\s\p{L}\p{N}]}: punctuation, symbols, marks, controls. */
    static boolean isSymbol(int cp) {
        return !isWhitespace(cp) && !isLetter(cp) && !isNumber(cp);
    }

    static boolean isLineBreak(int cp) {
        return cp == '\r' || cp == '\n';
    }

    /** ASCII lower case, the only case folding the contraction alternatives need. */
    static int toLowerAscii(int cp) {
        return cp >= 'A' && cp <= 'Z' ? cp + ('a' - 'A') : cp;
    }
}
