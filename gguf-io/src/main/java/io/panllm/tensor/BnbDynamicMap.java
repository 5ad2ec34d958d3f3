package io.panllm.tensor;

import java.util.Arrays;

/**
 * bitsandbytes' signed 8-bit "dynamic" code (functional.create_dynamic_map(signed=True)) and its
 * 8-bit blockwise quantizer (the General8bit case of the CUDA kernel kQuantizeBlockwise). A
 * double-quantized 4-bit checkpoint stores its absmax values in this code.
 *
 * <p>The map is built as bitsandbytes builds it: for exponent i = 0..6, the midpoints of
 * torch.linspace(0.1, 1, 2^i + 1) in float32, times 10^(i - 6) and its negation; then 0 and 1; sorted.
 */
final class BnbDynamicMap {
    private BnbDynamicMap() {
    }

    /** 10^(i - 6) for i = 0..6, the decimal exponents of the map (as correctly rounded doubles). */
    private static final double[] POWERS_OF_TEN = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1};

    private static final float[] MAP = create();

    static float[] map() {
        return MAP.clone();
    }

    static float value(int code) {
        return MAP[code];
    }

    private static float[] create() {
        float[] data = new float[256];
        int count = 0;
        int maxExponentBits = 7;
        for (int i = 0; i < maxExponentBits; i++) {
            float[] boundaries = linspace(0.1f, 1f, (1 << i) + 1);
            // Python's 10 ** k is a double; torch multiplies a float32 tensor by it in float32.
            float magnitude = (float) POWERS_OF_TEN[i];
            for (int k = 0; k + 1 < boundaries.length; k++) {
                float mean = (boundaries[k] + boundaries[k + 1]) / 2.0f;
                data[count++] = magnitude * mean;
                data[count++] = -magnitude * mean;
            }
        }
        data[count++] = 0;
        data[count++] = 1.0f;
        if (count != data.length) {
            throw new AssertionError("dynamic map has " + count + " entries");
        }
        Arrays.sort(data);
        return data;
    }

    /**
     * torch.linspace(start, end, steps, dtype=float32) as torch 2.x computes it on the CPU: element i
     * is start + step * i for the first half and end - step * (steps - 1 - i) for the rest, each with
     * the multiply-add fused. Checked bit for bit against torch 2.11 (AVX2 and AVX512 kernels) for
     * every size used here; torch 1.13's AVX2 kernel, which rounds differently, gives 42 of the 256
     * map entries up to two ulps apart.
     */
    static float[] linspace(float start, float end, int steps) {
        float[] out = new float[steps];
        if (steps == 1) {
            out[0] = start;
            return out;
        }
        float step = (end - start) / (steps - 1);
        for (int i = 0; i < steps; i++) {
            out[i] = i < steps / 2
                    ? Math.fma(step, (float) i, start)
                    : Math.fma(-step, (float) (steps - 1 - i), end);
        }
        return out;
    }

    /**
     * The code of a value already divided by its block's absmax, as the CUDA kernel's dQuantize picks
     * it: a 7-step binary search from code 127, then the nearer of the two neighbours by midpoint.
     */
    static int quantize(float x) {
        int pivot = 127;
        int upperPivot = 255;
        int lowerPivot = 0;
        float lower = -1.0f;
        float upper = 1.0f;
        float val = MAP[pivot];
        for (int i = 64; i > 0; i >>= 1) {
            if (x > val) {
                lowerPivot = pivot;
                lower = val;
                pivot += i;
            } else {
                upperPivot = pivot;
                upper = val;
                pivot -= i;
            }
            val = MAP[pivot];
        }
        if (upperPivot == 255) {
            upper = MAP[upperPivot];
        }
        if (lowerPivot == 0) {
            lower = MAP[lowerPivot];
        }
        if (x > val) {
            float midpoint = (upper + val) * 0.5f;
            return x > midpoint ? upperPivot : pivot;
        }
        float midpoint = (lower + val) * 0.5f;
        return x < midpoint ? lowerPivot : pivot;
    }
}
