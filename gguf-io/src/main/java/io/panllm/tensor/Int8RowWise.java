package io.panllm.tensor;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * LLM.int8() row-wise int8 weights as bitsandbytes stores them ({@code weight} int8 [rows, cols]
 * row-major, {@code SCB} float32 [rows], the absmax of each row): w = q * SCB / 127.
 *
 * <p>Quantizing follows bitsandbytes' int8_vectorwise_quant without outlier threshold: q = round half
 * to even of x * (127 / SCB). Dequantizing follows int8_vectorwise_dequant: (q * SCB) * float32(1/127).
 * A row of zeros has SCB 0 and codes 0.
 */
public final class Int8RowWise {
    private Int8RowWise() {
    }

    /** bitsandbytes' 7.874015718698502e-3, 1/127 as a float32. */
    public static final float INVERSE_127 = 7.874015718698502e-3f;

    /**
     * Quantizes a rows × cols row-major matrix from src[srcOffset...] into {@code weights} (rows * cols
     * int8 bytes) and {@code scb} (rows values from index 0).
     */
    public static void quantize(float[] src, int srcOffset, int rows, int cols, MemorySegment weights, float[] scb) {
        int n = checkShape(rows, cols, weights, "weights");
        Objects.checkFromIndexSize(srcOffset, n, src.length);
        Objects.checkFromIndexSize(0, rows, scb.length);
        for (int r = 0; r < rows; r++) {
            int row = srcOffset + r * cols;
            float absmax = Bnb4bit.absMax(src, row, cols);
            scb[r] = absmax;
            float scale = absmax == 0 ? 0f : 127.0f / absmax;
            for (int c = 0; c < cols; c++) {
                weights.set(JAVA_BYTE, (long) r * cols + c, (byte) Math.rint(src[row + c] * scale));
            }
        }
    }

    /** Decodes a rows × cols matrix into dst[dstOffset...]. */
    public static void dequantize(MemorySegment weights, float[] scb, int rows, int cols, float[] dst, int dstOffset) {
        int n = checkShape(rows, cols, weights, "weights");
        Objects.checkFromIndexSize(0, rows, scb.length);
        Objects.checkFromIndexSize(dstOffset, n, dst.length);
        for (int r = 0; r < rows; r++) {
            dequantizeRow(weights.asSlice((long) r * cols, cols), scb[r], dst, dstOffset + r * cols);
        }
    }

    /** Decodes one row: {@code row} holds its int8 codes (its byte size is the column count). */
    public static void dequantizeRow(MemorySegment row, float scb, float[] dst, int dstOffset) {
        int cols = Math.toIntExact(row.byteSize());
        Objects.checkFromIndexSize(dstOffset, cols, dst.length);
        for (int c = 0; c < cols; c++) {
            dst[dstOffset + c] = row.get(JAVA_BYTE, c) * scb * INVERSE_127;
        }
    }

    private static int checkShape(int rows, int cols, MemorySegment weights, String what) {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("negative shape [" + rows + ", " + cols + "]");
        }
        long n = (long) rows * cols;
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("[" + rows + ", " + cols + "] has more elements than a Java array holds");
        }
        if (weights.byteSize() < n) {
            throw new IllegalArgumentException(what + ": [" + rows + ", " + cols + "] needs " + n
                    + " bytes, the segment holds " + weights.byteSize());
        }
        return (int) n;
    }
}
