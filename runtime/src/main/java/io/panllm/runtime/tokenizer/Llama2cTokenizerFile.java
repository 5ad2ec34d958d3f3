package io.panllm.runtime.tokenizer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Reads llama2.c's tokenizer.bin: little-endian int32 max_token_length, then until the end of
 * the file, per token: float32 score, int32 byte length, that many UTF-8 bytes.
 *
 * <p>llama2.c conventions: id 0 is &lt;unk&gt;, 1 is BOS (stored as "\n&lt;s&gt;\n"), 2 is EOS
 * ("\n&lt;/s&gt;\n"), byte tokens are "&lt;0xNN&gt;" and pieces hold plain spaces. The vocabulary is
 * turned into the SentencePiece form GGUF uses ("▁" for space, "&lt;s&gt;", "&lt;/s&gt;", token types),
 * so that it can be written into a GGUF file as it is.
 */
final class Llama2cTokenizerFile {
    private static final long MAX_FILE_SIZE = 256L << 20;
    private static final Pattern BYTE_PIECE = Pattern.compile("<0x[0-9A-F]{2}>");
    private static final int UNKNOWN = 0;
    private static final int BOS = 1;
    private static final int EOS = 2;

    private Llama2cTokenizerFile() {
    }

    static Vocabulary read(Path file) {
        ByteBuffer buffer;
        try {
            long size = Files.size(file);
            if (size > MAX_FILE_SIZE) {
                throw new TokenizerException(file + ": " + size + " bytes is too large for a llama2.c tokenizer");
            }
            buffer = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new TokenizerException(file + ": cannot read llama2.c tokenizer: " + e.getMessage(), e);
        }
        if (buffer.remaining() < 4) {
            throw new TokenizerException(file + ": too short for a llama2.c tokenizer (no max_token_length)");
        }
        buffer.getInt(); // max_token_length: only run.c's buffer sizing needs it
        List<String> tokens = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        while (buffer.hasRemaining()) {
            int offset = buffer.position();
            if (buffer.remaining() < 8) {
                throw new TokenizerException(file + ": truncated entry for token " + tokens.size() + " at offset " + offset);
            }
            float score = buffer.getFloat();
            int length = buffer.getInt();
            if (length < 0 || length > buffer.remaining()) {
                throw new TokenizerException(file + ": token " + tokens.size() + " at offset " + offset
                        + " claims " + length + " bytes, " + buffer.remaining() + " remain");
            }
            byte[] bytes = new byte[length];
            buffer.get(bytes);
            try {
                tokens.add(Utf8.decodeStrict(bytes));
            } catch (InvalidUtf8Exception e) {
                throw new TokenizerException(file + ": token " + tokens.size() + " at offset " + offset + ": " + e.getMessage(), e);
            }
            scores.add(score);
        }
        if (tokens.size() <= EOS) {
            throw new TokenizerException(file + ": only " + tokens.size() + " tokens; llama2.c needs at least <unk>, <s>, </s>");
        }
        return toSentencePiece(tokens, scores);
    }

    private static Vocabulary toSentencePiece(List<String> rawTokens, List<Float> rawScores) {
        int n = rawTokens.size();
        List<String> pieces = new ArrayList<>(n);
        TokenType[] types = new TokenType[n];
        float[] scores = new float[n];
        for (int id = 0; id < n; id++) {
            String raw = rawTokens.get(id);
            scores[id] = rawScores.get(id);
            if (id == UNKNOWN) {
                types[id] = TokenType.UNKNOWN;
                pieces.add(raw.strip());
            } else if (id == BOS || id == EOS) {
                types[id] = TokenType.CONTROL;
                pieces.add(raw.strip()); // "\n<s>\n" -> "<s>"
            } else if (BYTE_PIECE.matcher(raw).matches()) {
                types[id] = TokenType.BYTE;
                pieces.add(raw);
            } else {
                types[id] = TokenType.NORMAL;
                pieces.add(raw.replace(' ', '\u2581'));
            }
        }
        SpecialTokens special = new SpecialTokens(BOS, EOS, SpecialTokens.NONE, UNKNOWN, SpecialTokens.NONE);
        return new Vocabulary(Vocabulary.Model.LLAMA2C, GgufTokenizerMetadata.DEFAULT_PRE, pieces, scores, types, List.of(),
                special, true, false, true, null);
    }
}
