package io.panllm.runtime.model;

import io.panllm.tensor.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An independent Llama forward pass for tests: every weight decoded to double up front (F32, F16
 * and BF16 only, read here without the runtime's kernels), plain loops, one token at a time.
 */
final class ReferenceLlama {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final ModelConfig c;
    private final Map<String, double[]> w = new HashMap<>();

    ReferenceLlama(ModelConfig config, Map<String, TensorView> tensors) {
        this.c = config;
        tensors.forEach((name, t) -> w.put(name, decode(t)));
        w.putIfAbsent("output.weight", w.get("token_embd.weight"));
    }

    static double[] decode(TensorView t) {
        MemorySegment s = t.data();
        double[] out = new double[Math.toIntExact(t.elementCount())];
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (t.type()) {
                case F32 -> s.get(FLOAT, 4L * i);
                case F16 -> Float.float16ToFloat(s.get(SHORT, 2L * i));
                case BF16 -> Float.intBitsToFloat(s.get(SHORT, 2L * i) << 16);
                default -> throw new IllegalArgumentException("reference reads F32/F16/BF16 only, not " + t.type());
            };
        }
        return out;
    }

    /** The logits after each of {@code tokens}, processed from position 0. */
    List<double[]> logits(int[] tokens) {
        int dim = c.embeddingLength();
        int hd = c.headDim();
        int kvDim = c.kvDim();
        List<double[][]> keyCache = new ArrayList<>();
        List<double[][]> valueCache = new ArrayList<>();
        for (int l = 0; l < c.blockCount(); l++) {
            keyCache.add(new double[tokens.length][]);
            valueCache.add(new double[tokens.length][]);
        }
        List<double[]> result = new ArrayList<>();
        for (int pos = 0; pos < tokens.length; pos++) {
            double[] x = new double[dim];
            System.arraycopy(w.get("token_embd.weight"), tokens[pos] * dim, x, 0, dim);
            for (int l = 0; l < c.blockCount(); l++) {
                String p = "blk." + l + ".";
                double[] xn = rmsNorm(x, w.get(p + "attn_norm.weight"));
                double[] q = add(matVec(w.get(p + "attn_q.weight"), xn, c.queryDim()), w.get(p + "attn_q.bias"));
                double[] k = add(matVec(w.get(p + "attn_k.weight"), xn, kvDim), w.get(p + "attn_k.bias"));
                double[] v = add(matVec(w.get(p + "attn_v.weight"), xn, kvDim), w.get(p + "attn_v.bias"));
                rope(q, c.headCount(), pos);
                rope(k, c.headCountKv(), pos);
                keyCache.get(l)[pos] = k;
                valueCache.get(l)[pos] = v;
                double[] attention = new double[c.queryDim()];
                for (int h = 0; h < c.headCount(); h++) {
                    int kvh = h / (c.headCount() / c.headCountKv());
                    double[] scores = new double[pos + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int s = 0; s <= pos; s++) {
                        double dot = 0;
                        for (int i = 0; i < hd; i++) {
                            dot += q[h * hd + i] * keyCache.get(l)[s][kvh * hd + i];
                        }
                        scores[s] = dot / Math.sqrt(hd);
                        max = Math.max(max, scores[s]);
                    }
                    double sum = 0;
                    for (int s = 0; s <= pos; s++) {
                        scores[s] = Math.exp(scores[s] - max);
                        sum += scores[s];
                    }
                    for (int s = 0; s <= pos; s++) {
                        for (int i = 0; i < hd; i++) {
                            attention[h * hd + i] += scores[s] / sum * valueCache.get(l)[s][kvh * hd + i];
                        }
                    }
                }
                double[] o = matVec(w.get(p + "attn_output.weight"), attention, dim);
                for (int i = 0; i < dim; i++) {
                    x[i] += o[i];
                }
                xn = rmsNorm(x, w.get(p + "ffn_norm.weight"));
                double[] gate = matVec(w.get(p + "ffn_gate.weight"), xn, c.feedForwardLength());
                double[] up = matVec(w.get(p + "ffn_up.weight"), xn, c.feedForwardLength());
                double[] hidden = new double[gate.length];
                for (int i = 0; i < hidden.length; i++) {
                    hidden[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
                }
                double[] down = matVec(w.get(p + "ffn_down.weight"), hidden, dim);
                for (int i = 0; i < dim; i++) {
                    x[i] += down[i];
                }
            }
            result.add(matVec(w.get("output.weight"), rmsNorm(x, w.get("output_norm.weight")), c.vocabSize()));
        }
        return result;
    }

    private void rope(double[] vectors, int heads, int pos) {
        double[] factors = w.get("rope_freqs.weight");
        int rd = c.ropeDimensionCount();
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < rd / 2; i++) {
                double theta = (pos / (double) c.ropeScaleFactor()) * Math.pow(c.ropeFreqBase(), -2.0 * i / rd);
                if (factors != null) {
                    theta /= factors[i];
                }
                int a = c.ropeLayout() == RopeLayout.ADJACENT_PAIRS ? h * c.headDim() + 2 * i : h * c.headDim() + i;
                int b = c.ropeLayout() == RopeLayout.ADJACENT_PAIRS ? a + 1 : a + rd / 2;
                double x0 = vectors[a];
                double x1 = vectors[b];
                vectors[a] = x0 * Math.cos(theta) - x1 * Math.sin(theta);
                vectors[b] = x0 * Math.sin(theta) + x1 * Math.cos(theta);
            }
        }
    }

    private double[] rmsNorm(double[] x, double[] weight) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double scale = 1 / Math.sqrt(ss / x.length + c.rmsNormEps());
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * scale * weight[i];
        }
        return out;
    }

    /** A ggml matrix [in, out]: row o holds the in weights of output o. */
    private static double[] matVec(double[] matrix, double[] in, int outputs) {
        double[] out = new double[outputs];
        for (int o = 0; o < outputs; o++) {
            double sum = 0;
            for (int i = 0; i < in.length; i++) {
                sum += matrix[o * in.length + i] * in[i];
            }
            out[o] = sum;
        }
        return out;
    }

    private static double[] add(double[] x, double[] bias) {
        if (bias != null) {
            for (int i = 0; i < x.length; i++) {
                x[i] += bias[i];
            }
        }
        return x;
    }

    static boolean readable(GgmlType type) {
        return type == GgmlType.F32 || type == GgmlType.F16 || type == GgmlType.BF16;
    }
}
