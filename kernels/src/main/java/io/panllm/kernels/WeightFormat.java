package io.panllm.kernels;

/**
 * The weight layouts the GEMV kernels read, GGUF's block structures (ggml-common.h): a row of
 * {@code cols} weights is {@code cols / blockSize} blocks of {@code blockBytes} bytes each.
 */
public enum WeightFormat {
    /** 32 weights: fp16 scale d, then 16 bytes of 4-bit quants q; weight = d * (q - 8). */
    Q4_0(32, 18),
    /** 32 weights: fp16 scale d, then 32 int8 quants q; weight = d * q. */
    Q8_0(32, 34),
    /** IEEE half precision, 8 weights per "block" so that rows stay 16-byte aligned for the kernel. */
    F16(8, 16);

    public final int blockSize;
    public final int blockBytes;

    WeightFormat(int blockSize, int blockBytes) {
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** Bytes of one row of {@code cols} weights; cols must be a multiple of the block size. */
    public long rowBytes(int cols) {
        if (cols <= 0 || cols % blockSize != 0) {
            throw new IllegalArgumentException(name() + " rows need a positive multiple of " + blockSize
                    + " columns, got " + cols);
        }
        return (long) cols / blockSize * blockBytes;
    }

    /** Bytes of a {@code rows} x {@code cols} matrix. */
    public long matrixBytes(int rows, int cols) {
        return rows * rowBytes(cols);
    }
}
