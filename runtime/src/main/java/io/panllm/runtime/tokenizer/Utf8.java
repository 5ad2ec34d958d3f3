package io.panllm.runtime.tokenizer;

import java.nio.charset.StandardCharsets;

/** Strict UTF-8 checks (Unicode Table 3-7: no overlongs, no surrogates, nothing above U+10FFFF). */
final class Utf8 {
    /** {@link #scan} result: the bytes up to the end are the start of a well-formed sequence. */
    static final int INCOMPLETE = 0;

    private Utf8() {
    }

    /**
     * Looks at the sequence starting at {@code pos}. Returns its length if it is well-formed,
     * {@link #INCOMPLETE} if the bytes before {@code end} are a proper prefix of a well-formed
     * sequence, or minus the length of the maximal ill-formed subpart (the bytes one U+FFFD
     * replaces) if it can never become well-formed.
     */
    static int scan(byte[] bytes, int pos, int end) {
        int lead = bytes[pos] & 0xff;
        if (lead < 0x80) {
            return 1;
        }
        int continuations;
        int secondMin = 0x80;
        int secondMax = 0xBF;
        if (lead >= 0xC2 && lead <= 0xDF) {
            continuations = 1;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            continuations = 2;
            if (lead == 0xE0) {
                secondMin = 0xA0; // shorter forms are overlong
            } else if (lead == 0xED) {
                secondMax = 0x9F; // above are UTF-16 surrogates
            }
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            continuations = 3;
            if (lead == 0xF0) {
                secondMin = 0x90;
            } else if (lead == 0xF4) {
                secondMax = 0x8F; // above U+10FFFF
            }
        } else {
            return -1; // a continuation byte, an overlong lead (C0, C1) or F5..FF
        }
        for (int i = 1; i <= continuations; i++) {
            if (pos + i >= end) {
                return INCOMPLETE;
            }
            int b = bytes[pos + i] & 0xff;
            int min = i == 1 ? secondMin : 0x80;
            int max = i == 1 ? secondMax : 0xBF;
            if (b < min || b > max) {
                return -i;
            }
        }
        return continuations + 1;
    }

    /** Decodes well-formed UTF-8, or throws naming the offset of the first bad byte. */
    static String decodeStrict(byte[] bytes) {
        int pos = 0;
        while (pos < bytes.length) {
            int n = scan(bytes, pos, bytes.length);
            if (n == INCOMPLETE) {
                throw new InvalidUtf8Exception(pos, "truncated sequence at the end of the input");
            }
            if (n < 0) {
                throw new InvalidUtf8Exception(pos, String.format("ill-formed sequence starting with byte 0x%02X", bytes[pos] & 0xff));
            }
            pos += n;
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
