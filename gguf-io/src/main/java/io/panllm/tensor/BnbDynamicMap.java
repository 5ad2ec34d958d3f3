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
     * torch.linspace(start, end, steps, dtype=float32) as the CPU kernel computes it, which is not
     * start + i * step everywhere: the kernel fills 16 elements at a time as two 8-lane vectors
     * whose first lane is start + step * i (or end - step * (steps - i - 1) past the middle) and whose
     * other lanes add k * step to it, and the scalar tail evaluates the same formula with the
     * multiply-add fused (the AVX2 build of ATen). Checked against torch's output for every size used.
     */
    static float[] linspace(float start, float end, int steps) {
        float[] out = new float[steps];
        if (steps == 1) {
            out[0] = start;
            return out;
        }
        float step = (end - start) / (steps - 1);
        int lanes = 8;
        int i = 0;
        for (; i + 2 * lanes <= steps; i += 2 * lanes) {
            fillVector(out, i, start, end, step, steps, lanes);
            fillVector(out, i + lanes, start, end, step, steps, lanes);
        }
        for (; i < steps; i++) {
            out[i] = linspaceElement(start, end, step, steps, i);
        }
        return out;
    }

    private static void fillVector(float[] out, int first, float start, float end, float step, int steps,
            int lanes) {
        float base = linspaceElement(start, end, step, steps, first);
        for (int k = 0; k < lanes; k++) {
            out[first + k] = base + k * step;
        }
    }

    private static float linspaceElement(float start, float end, float step, int steps, int index) {
        if (index < steps / 2) {
            return Math.fma(step, (float) index, start);
        }
        return Math.fma(-step, (float) (steps - index - 1), end);
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
