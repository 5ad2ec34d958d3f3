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
    F16(8, 16),
    /** bfloat16 (the top half of a float32), 8 weights per "block" as F16. */
    BF16(8, 16),
    /** 32 weights: fp16 d, then 16 bytes of 4-bit codes laid out as Q4_0's; weight = d * kvalues_iq4nl[code]. */
    IQ4_NL(32, 18),
    /**
     * 256 weights: fp16 d, fp16 dmin, 12 bytes of packed 6-bit scales and mins of 8 sub-blocks of 32,
     * 128 bytes of 4-bit quants; weight = d * scale * q - dmin * min.
     */
    Q4_K(256, 144),
    /** 256 weights: as Q4_K with qh[32] (bit s of byte l: bit 4 of element l of sub-block s) before the quants. */
    Q5_K(256, 176),
    /** 256 weights: ql[128] (low 4 bits), qh[64] (high 2 bits), 16 int8 scales, fp16 d; weight = d * scale * (q - 32). */
    Q6_K(256, 210),
    /**
     * panllm's extension type (bitsandbytes NF4 re-blocked): 64 weights, fp16 absmax then 32 bytes of codes,
     * element 2k in the high nibble of byte k; weight = absmax * NF4[code].
     */
    NF4(64, 34),
    /** As NF4 with bitsandbytes' FP4 (e2m1) table. */
    FP4(64, 34);

    public final int blockSize;
    public final int blockBytes;

    WeightFormat(int blockSize, int blockBytes) {
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** Bytes of one row of {@code cols} weights; cols must be a multiple of the block size. */
    public long rowBytes(int cols) {
        return rowBytes(name(), blockSize, blockBytes, cols);
    }

    /** Bytes of a row of {@code cols} elements in blocks of the given size (also DecodeKernels.RowFormat's). */
    static long rowBytes(String format, int blockSize, int blockBytes, int cols) {
        if (cols <= 0 || cols % blockSize != 0) {
            throw new IllegalArgumentException(format + " rows need a positive multiple of " + blockSize
                    + " columns, got " + cols);
        }
        return (long) cols / blockSize * blockBytes;
    }

    /** Bytes of a {@code rows} x {@code cols} matrix. */
    public long matrixBytes(int rows, int cols) {
        return rows * rowBytes(cols);
    }
}
