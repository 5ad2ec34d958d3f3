package io.panllm.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Text files the user names with -f (prompts, evaluation texts). */
final class TextFiles {
    private TextFiles() {
    }

    /** The file as text; invalid UTF-8 is refused with the offset of the first bad byte. */
    static String readUtf8(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new BadInputException(file + (Files.isDirectory(file) ? ": a directory, not a text file" : ": no such file"));
        }
        byte[] bytes = Files.readAllBytes(file);
        try {
            return decoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            decoder().decode(in, CharBuffer.allocate(bytes.length), true); // stops at the first bad byte
            throw new BadInputException(file + ": not valid UTF-8 (bad byte at offset " + in.position() + ")");
        }
    }

    private static CharsetDecoder decoder() {
        return StandardCharsets.UTF_8.newDecoder();
    }
}
