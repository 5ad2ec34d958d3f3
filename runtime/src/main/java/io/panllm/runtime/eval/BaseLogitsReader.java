package io.panllm.runtime.eval;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads a {@link BaseLogitsFormat} file through a memory mapping (these files run to gigabytes).
 * The header is validated against the file size before anything else is read, so a corrupt or
 * truncated file is reported, not read past its end.
 */
final class BaseLogitsReader implements AutoCloseable {

    private final Path file;
    private final Arena arena;
    private final MemorySegment mapped;
    private final int contextSize;
    private final int vocabSize;
    private final int chunks;
    private final int[] tokens;

    BaseLogitsReader(Path file) throws IOException {
        this.file = file;
        this.arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < BaseLogitsFormat.HEADER_BYTES) {
                throw new BaseLogitsException(file, "only " + size + " bytes, too short for the 20-byte header");
            }
            this.mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            byte[] magic = mapped.asSlice(0, 8).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            if (!java.util.Arrays.equals(magic, BaseLogitsFormat.MAGIC)) {
                throw new BaseLogitsException(file, 0, "no \"_logits_\" magic: not a KL-divergence base file");
            }
            this.contextSize = positiveInt(8, "n_ctx", 3);
            this.vocabSize = positiveInt(12, "n_vocab", 1);
            this.chunks = positiveInt(16, "n_chunk", 1);
            long expected;
            try {
                expected = BaseLogitsFormat.fileBytes(contextSize, vocabSize, chunks);
            } catch (ArithmeticException e) {
                throw new BaseLogitsException(file, 8, "header sizes n_ctx=" + contextSize + " n_vocab=" + vocabSize
                        + " n_chunk=" + chunks + " overflow");
            }
            if (size != expected) {
                throw new BaseLogitsException(file, "is " + size + " bytes but its header (n_ctx=" + contextSize
                        + ", n_vocab=" + vocabSize + ", n_chunk=" + chunks + ") implies " + expected
                        + " (truncated or not written by --kl-divergence-base)");
            }
            this.tokens = mapped.asSlice(BaseLogitsFormat.HEADER_BYTES,
                    BaseLogitsFormat.tokensBytes(contextSize, chunks)).toArray(BaseLogitsFormat.INT);
            for (int i = 0; i < tokens.length; i++) {
                if (tokens[i] < 0 || tokens[i] >= vocabSize) {
                    throw new BaseLogitsException(file, BaseLogitsFormat.HEADER_BYTES + 4L * i,
                            "token " + tokens[i] + " outside the vocabulary of " + vocabSize);
                }
            }
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private int positiveInt(long offset, String name, int minimum) throws BaseLogitsException {
        int value = mapped.get(BaseLogitsFormat.INT, offset);
        if (value < minimum) {
            throw new BaseLogitsException(file, offset, name + " is " + value + ", must be at least " + minimum);
        }
        return value;
    }

    Path file() {
        return file;
    }

    int contextSize() {
        return contextSize;
    }

    int vocabSize() {
        return vocabSize;
    }

    int chunks() {
        return chunks;
    }

    /** The evaluated tokens, n_chunk * n_ctx of them. */
    int[] tokens() {
        return tokens.clone();
    }

    /** Reads the row of scored position {@code row} of chunk {@code chunk} into {@code into}. */
    void readRow(int chunk, int row, QuantizedLogProbs into) {
        long offset = BaseLogitsFormat.rowOffset(contextSize, vocabSize, chunks, chunk, row);
        into.scale = mapped.get(BaseLogitsFormat.FLOAT, offset);
        into.minLogProb = mapped.get(BaseLogitsFormat.FLOAT, offset + 4);
        MemorySegment.copy(mapped, BaseLogitsFormat.UINT16, offset + 8, into.levels, 0, vocabSize);
    }

    @Override
    public void close() {
        arena.close();
    }
}
