package io.panllm.runtime.eval;

import io.panllm.io.AtomicFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * Writes a {@link BaseLogitsFormat} file: the header and tokens up front, then one row per scored
 * position, in order. The data goes to a temporary file next to the target, renamed over it by
 * {@link #commit()}; closing without committing deletes it, so a failed run leaves no half file.
 */
final class BaseLogitsWriter implements AutoCloseable {

    private final AtomicFile file;
    private final FileChannel channel;
    private final ByteBuffer row;
    private final long expectedRows;
    private long rowsWritten;

    BaseLogitsWriter(Path target, int contextSize, int vocabSize, int chunks, int[] tokens) throws IOException {
        this.file = AtomicFile.create(target);
        this.channel = file.channel();
        this.row = ByteBuffer.allocate((int) BaseLogitsFormat.rowBytes(vocabSize)).order(ByteOrder.LITTLE_ENDIAN);
        this.expectedRows = (long) BaseLogitsFormat.rowsPerChunk(contextSize) * chunks;
        try {
            int tokenCount = contextSize * chunks;
            ByteBuffer header = ByteBuffer.allocate(BaseLogitsFormat.HEADER_BYTES + 4 * tokenCount)
                    .order(ByteOrder.LITTLE_ENDIAN);
            header.put(BaseLogitsFormat.MAGIC).putInt(contextSize).putInt(vocabSize).putInt(chunks);
            header.asIntBuffer().put(tokens, 0, tokenCount);
            header.position(header.capacity()).flip();
            writeFully(header);
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Appends the row of one scored position. */
    void writeRow(QuantizedLogProbs logProbs) {
        row.clear();
        row.putFloat(logProbs.scale).putFloat(logProbs.minLogProb);
        MemorySegment.copy(logProbs.levels, 0, MemorySegment.ofArray(row.array()), BaseLogitsFormat.UINT16, 8,
                logProbs.levels.length);
        row.position(row.capacity()).flip();
        try {
            writeFully(row);
        } catch (IOException e) {
            throw new UncheckedIOException(file.aboutTarget(e));
        }
        rowsWritten++;
    }

    /** Checks that every row was written and moves the file into place. */
    void commit() throws IOException {
        if (rowsWritten != expectedRows) {
            throw new IllegalStateException("wrote " + rowsWritten + " rows of the " + expectedRows + " expected");
        }
        file.commit();
    }

    private void writeFully(ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    @Override
    public void close() throws IOException {
        file.close();
    }
}
