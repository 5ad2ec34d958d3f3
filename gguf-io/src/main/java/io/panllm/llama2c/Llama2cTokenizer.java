package io.panllm.llama2c;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * llama2.c's {@code tokenizer.bin}, as written by its tokenizer.py and read by run.c's
 * build_tokenizer, kept raw (the runtime turns it into a SentencePiece vocabulary):
 *
 * <pre>
 * int32 max_token_length
 * per token, until the end of the file (run.c reads vocab_size of them):
 *   float32 score, int32 length, length bytes (UTF-8 as exported; bytes are not checked here)
 * </pre>
 *
 * All little-endian. Ids 0, 1, 2 are &lt;unk&gt;, "\n&lt;s&gt;\n" and "\n&lt;/s&gt;\n"; byte fallback
 * pieces are "&lt;0xNN&gt;".
 *
 * @param maxTokenLength the header's max_token_length (run.c sizes its merge buffer with it)
 * @param pieces the raw bytes of each token
 * @param scores the merge score of each token
 */
public record Llama2cTokenizer(int maxTokenLength, List<byte[]> pieces, float[] scores) {
    private static final long MAX_FILE_BYTES = 256L << 20;

    /** Reads every token in the file. */
    public static Llama2cTokenizer read(Path file) {
        return read(file, -1);
    }

    /**
     * Reads a tokenizer that must hold exactly {@code vocabSize} tokens (the checkpoint's
     * vocab_size), or any number when {@code vocabSize} is negative.
     */
    public static Llama2cTokenizer read(Path file, int vocabSize) {
        ByteBuffer in;
        try {
            long size = Files.size(file);
            if (size > MAX_FILE_BYTES) {
                throw new Llama2cException(file + ": " + size + " bytes is too large for a llama2.c tokenizer");
            }
            in = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        } catch (NoSuchFileException e) {
            throw new Llama2cException(file + ": no such file");
        } catch (IOException e) {
            throw new Llama2cException(file + ": cannot read: " + e.getMessage());
        }
        if (in.remaining() < 4) {
            throw new Llama2cException(file + ": too short for a llama2.c tokenizer (no max_token_length)");
        }
        int maxTokenLength = in.getInt();
        if (maxTokenLength <= 0 || maxTokenLength > (1 << 16)) {
            throw new Llama2cException(file + ": max_token_length " + maxTokenLength + " at offset 0 is implausible");
        }
        List<byte[]> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        while (in.hasRemaining()) {
            int offset = in.position();
            if (in.remaining() < 8) {
                throw new Llama2cException(file + ": truncated entry of token " + pieces.size() + " at offset " + offset);
            }
            float score = in.getFloat();
            int length = in.getInt();
            if (length < 0 || length > in.remaining() || length > maxTokenLength) {
                throw new Llama2cException(file + ": token " + pieces.size() + " at offset " + offset + " claims " + length
                        + " bytes (max_token_length " + maxTokenLength + ", " + in.remaining() + " bytes left)");
            }
            byte[] piece = new byte[length];
            in.get(piece);
            pieces.add(piece);
            scores.add(score);
        }
        if (vocabSize >= 0 && pieces.size() != vocabSize) {
            throw new Llama2cException(file + ": holds " + pieces.size() + " tokens, the checkpoint's vocab_size is " + vocabSize);
        }
        float[] scoreArray = new float[scores.size()];
        for (int i = 0; i < scoreArray.length; i++) {
            scoreArray[i] = scores.get(i);
        }
        return new Llama2cTokenizer(maxTokenLength, List.copyOf(pieces), scoreArray);
    }

    public int size() {
        return pieces.size();
    }

    /** Token {@code id} decoded as UTF-8 (malformed bytes become U+FFFD). */
    public String piece(int id) {
        return new String(pieces.get(id), java.nio.charset.StandardCharsets.UTF_8);
    }
}
