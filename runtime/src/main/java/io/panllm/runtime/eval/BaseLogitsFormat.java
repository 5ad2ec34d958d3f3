package io.panllm.runtime.eval;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The layout of llama.cpp's KL-divergence base file, written by
 * {@code llama-perplexity --kl-divergence-base FILE} and read by {@code --kl-divergence}; files
 * written here load there and vice versa. All numbers little-endian:
 *
 * <pre>
 * offset  size            field
 * 0       8               magic "_logits_"
 * 8       4               int32  n_ctx    tokens per chunk
 * 12      4               int32  n_vocab
 * 16      4               int32  n_chunk
 * 20      4*n_chunk*n_ctx int32  tokens   the evaluated tokens (before BOS replacement)
 * then, for each chunk, for each scored position j = n_ctx/2 .. n_ctx-2 (n_ctx-1-n_ctx/2 rows),
 * a row of nv = 2*((n_vocab+1)/2) + 4 uint16:
 *         4               float32 scale
 *         4               float32 min_log_prob
 *         2*n_vocab       uint16  q[n_vocab]   log p[i] = scale*q[i] + min_log_prob
 *         0 or 2          uint16  padding (0) to an even number of uint16
 * </pre>
 */
final class BaseLogitsFormat {

    static final byte[] MAGIC = "_logits_".getBytes(StandardCharsets.US_ASCII);
    static final int HEADER_BYTES = 20;

    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfChar UINT16 = ValueLayout.JAVA_CHAR_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private BaseLogitsFormat() {
    }

    /** Bytes of one row: two floats and n_vocab uint16, padded to an even count of uint16. */
    static long rowBytes(int vocabSize) {
        return 2L * (2L * ((vocabSize + 1L) / 2) + 4);
    }

    static int rowsPerChunk(int contextSize) {
        return contextSize - 1 - contextSize / 2;
    }

    static long tokensBytes(int contextSize, int chunks) {
        return 4L * contextSize * chunks;
    }

    /** Total file size; ArithmeticException if it would not fit a long (a corrupt header). */
    static long fileBytes(int contextSize, int vocabSize, int chunks) {
        long rows = (long) rowsPerChunk(contextSize) * chunks;
        return Math.addExact(HEADER_BYTES + tokensBytes(contextSize, chunks),
                Math.multiplyExact(rows, rowBytes(vocabSize)));
    }

    static long rowOffset(int contextSize, int vocabSize, int chunks, int chunk, int row) {
        long index = (long) chunk * rowsPerChunk(contextSize) + row;
        return HEADER_BYTES + tokensBytes(contextSize, chunks) + index * rowBytes(vocabSize);
    }
}
