package io.panllm.tensor;

/**
 * The pieces of llama.cpp's importance-weighted quantizers (the quantize_row_*_impl functions of
 * ggml-quants.c that llama-quantize runs when given an imatrix) that the unweighted reference
 * quantizers do not use: make_qkx3_quants, make_qp_quants and the element weights
 * {@code qw[j] * sqrt(sigma2 + x[j]^2)}. Same evaluation order and float precision as the C code,
 * for the reason given in {@link KQuants}.
 */
final class WeightedQuants {
    private WeightedQuants() {
    }

    /** Mean of x² over x[offset, offset + n), summed in order in float as the C loops do. */
    static float meanSquare(float[] x, int offset, int n) {
        float sum = 0;
        for (int j = 0; j < n; j++) {
            sum += x[offset + j] * x[offset + j];
        }
        return sum / n;
    }

    /** weights[j] = qw[qwOffset + j] * sqrtf(sigma2 + x[xOffset + j]²) for j below n. */
    static void elementWeights(float[] qw, int qwOffset, float[] x, int xOffset, int n, float sigma2, float[] weights) {
        for (int j = 0; j < n; j++) {
            float xj = x[xOffset + j];
            // sqrt in double then rounded is the correctly rounded float sqrtf
            weights[j] = qw[qwOffset + j] * (float) Math.sqrt(sigma2 + xj * xj);
        }
    }

    /**
     * make_qkx3_quants with weights and use_mad false: fits x ≈ scale * L - minOut with 0 <= L <= nmax
     * over n elements, trying nstep + 1 scales and keeping the least weighted squared error. Writes the
     * codes to L[lOffset...], -min to mins[minIndex], returns the scale.
     */
    static float makeQkx3Quants(int n, int nmax, float[] x, int xOffset, float[] weights, int[] L, int lOffset,
            float[] mins, int minIndex, int[] lAux, float rmin, float rdelta, int nstep) {
        float min = x[xOffset];
        float max = x[xOffset];
        float sumW = weights[0];
        float sumX = sumW * x[xOffset];
        for (int i = 1; i < n; i++) {
            float xi = x[xOffset + i];
            if (xi < min) {
                min = xi;
            }
            if (xi > max) {
                max = xi;
            }
            float w = weights[i];
            sumW += w;
            sumX += w * xi;
        }
        if (min > 0) {
            min = 0;
        }
        if (max <= min) {
            for (int i = 0; i < n; i++) {
                L[lOffset + i] = 0;
            }
            mins[minIndex] = -min;
            return 0.f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++) {
            int l = QuantMath.nearestInt(iscale * (x[xOffset + i] - min));
            L[lOffset + i] = Math.max(0, Math.min(nmax, l));
            float diff = scale * L[lOffset + i] + min - x[xOffset + i];
            bestError += weights[i] * (diff * diff);
        }
        for (int is = 0; is <= nstep; is++) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0;
            float sumL2 = 0;
            float sumXL = 0;
            for (int i = 0; i < n; i++) {
                // the v > 0 and MIN(v, nmax) guards of ggml: v can be inf or NaN when min is near max
                float v = iscale * (x[xOffset + i] - min);
                int l = v > 0 ? QuantMath.nearestInt(v < nmax ? v : nmax) : 0;
                lAux[i] = l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * x[xOffset + i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0) {
                float thisScale = (sumW * sumXL - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float error = 0;
                for (int i = 0; i < n; i++) {
                    float diff = thisScale * lAux[i] + thisMin - x[xOffset + i];
                    error += weights[i] * (diff * diff);
                }
                if (error < bestError) {
                    System.arraycopy(lAux, 0, L, lOffset, n);
                    bestError = error;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        mins[minIndex] = -min;
        return scale;
    }

    /**
     * make_qp_quants: codes 0 <= L <= nmax for the non-negative x ≈ scale * L (the 6-bit scales and
     * mins of Q4_K / Q5_K against the super-block scale), weighted by quantWeights; returns the scale.
     * L is ggml's uint8_t array, hence the {@code & 0xFF} on every store.
     */
    static float makeQpQuants(int n, int nmax, float[] x, int[] L, float[] quantWeights) {
        float max = 0;
        for (int i = 0; i < n; i++) {
            max = max > x[i] ? max : x[i];
        }
        if (max < QuantMath.GROUP_MAX_EPS) {
            for (int i = 0; i < n; i++) {
                L[i] = 0;
            }
            return 0.f;
        }
        float iscale = nmax / max;
        for (int i = 0; i < n; i++) {
            L[i] = QuantMath.nearestInt(iscale * x[i]) & 0xFF;
        }
        float scale = 1 / iscale;
        float bestMse = 0;
        for (int i = 0; i < n; i++) {
            float diff = x[i] - scale * L[i];
            bestMse += quantWeights[i] * diff * diff;
        }
        for (int is = -4; is <= 4; is++) {
            if (is == 0) {
                continue;
            }
            float iscaleIs = (0.1f * is + nmax) / max;
            float scaleIs = 1 / iscaleIs;
            float mse = 0;
            for (int i = 0; i < n; i++) {
                int l = Math.min(nmax, QuantMath.nearestInt(iscaleIs * x[i]));
                float diff = x[i] - scaleIs * l;
                mse += quantWeights[i] * diff * diff;
            }
            if (mse < bestMse) {
                bestMse = mse;
                iscale = iscaleIs;
            }
        }
        float sumLX = 0;
        float sumL2 = 0;
        for (int i = 0; i < n; i++) {
            int l = Math.min(nmax, QuantMath.nearestInt(iscale * x[i]));
            L[i] = l & 0xFF;
            float w = quantWeights[i];
            sumLX += w * x[i] * l;
            sumL2 += w * l * l;
        }
        for (int itry = 0; itry < 5; itry++) {
            int changed = 0;
            for (int i = 0; i < n; i++) {
                float w = quantWeights[i];
                float slx = sumLX - w * x[i] * L[i];
                float sl2 = sumL2 - w * L[i] * L[i];
                if (slx > 0 && sl2 > 0) {
                    int newL = Math.min(nmax, QuantMath.nearestInt(x[i] * sl2 / slx));
                    if (newL != L[i]) {
                        slx += w * x[i] * newL;
                        sl2 += w * newL * newL;
                        if (slx * slx * sumL2 > sumLX * sumLX * sl2) {
                            L[i] = newL & 0xFF;
                            sumLX = slx;
                            sumL2 = sl2;
                            changed++;
                        }
                    }
                }
            }
            if (changed == 0) {
                break;
            }
        }
        return sumL2 > 0.0f ? sumLX / sumL2 : 0.0f;
    }
}
