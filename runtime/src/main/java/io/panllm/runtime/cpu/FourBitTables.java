package io.panllm.runtime.cpu;

/** The value tables of the non-linear 4-bit types: a 4-bit code q stands for scale * TABLE[q]. */
final class FourBitTables {
    private FourBitTables() {
    }

    /** IQ4_NL: llama.cpp's kvalues_iq4nl (int8; the block's fp16 d scales them). */
    static final byte[] IQ4_NL = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    /** bitsandbytes NF4: quantiles of a normal distribution, scaled to [-1, 1]. */
    static final float[] NF4 = {
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
        -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
        0.07958029955625534f, 0.16093020141124725f, 0.24611230850219727f, 0.33791524171829224f,
        0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};

    /**
     * bitsandbytes FP4 (e2m1 with bitsandbytes' own exponent bias), as its dDequantizeFP4Tree
     * decodes it: bit 3 is the sign, codes 0-7 are {0, 0.0625, 8, 12, 4, 6, 2, 3} / 12.
     */
    static final float[] FP4 = {
        0f, 0.0625f / 12, 8f / 12, 12f / 12, 4f / 12, 6f / 12, 2f / 12, 3f / 12,
        -0f, -0.0625f / 12, -8f / 12, -12f / 12, -4f / 12, -6f / 12, -2f / 12, -3f / 12};
}
