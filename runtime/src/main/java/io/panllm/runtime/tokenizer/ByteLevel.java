package io.panllm.runtime.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * GPT-2's reversible byte-to-unicode mapping (bytes_to_unicode in openai/gpt-2 encoder.py):
 * printable Latin-1 bytes stand for themselves, the 68 others (controls, space, ...) map to
 * U+0100 onwards, so every byte string becomes a string of visible characters ("Ġ" is space).
 */
final class ByteLevel {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[512];

    static {
        Arrays.fill(CHAR_TO_BYTE, -1);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE && b <= 0xFF;
            char c = printable ? (char) b : (char) next++;
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {
    }

    static char charOf(int b) {
        return BYTE_TO_CHAR[b & 0xff];
    }

    /** The byte a mapped character stands for, or -1 if the character is not in the mapping. */
    static int byteOf(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /** The mapped form of UTF-8 bytes. */
    static String encode(byte[] utf8) {
        char[] chars = new char[utf8.length];
        for (int i = 0; i < utf8.length; i++) {
            chars[i] = BYTE_TO_CHAR[utf8[i] & 0xff];
        }
        return new String(chars);
    }

    /**
     * The bytes a token string stands for. A character outside the mapping (only in malformed
     * vocabularies) stands for its own UTF-8 encoding.
     */
    static byte[] decode(String mapped) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(mapped.length());
        for (int i = 0; i < mapped.length(); i++) {
            int b = byteOf(mapped.charAt(i));
            if (b >= 0) {
                out.write(b);
            } else {
                int cp = mapped.codePointAt(i);
                out.writeBytes(new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8));
                i += Character.charCount(cp) - 1;
            }
        }
        return out.toByteArray();
    }
}
