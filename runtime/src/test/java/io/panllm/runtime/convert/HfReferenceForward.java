package io.panllm.runtime.convert;

import static io.panllm.runtime.convert.TinyHfCheckpoint.DIM;
import static io.panllm.runtime.convert.TinyHfCheckpoint.FFN;
import static io.panllm.runtime.convert.TinyHfCheckpoint.HEADS;
import static io.panllm.runtime.convert.TinyHfCheckpoint.HEAD_DIM;
import static io.panllm.runtime.convert.TinyHfCheckpoint.KV_HEADS;
import static io.panllm.runtime.convert.TinyHfCheckpoint.LAYERS;
import static io.panllm.runtime.convert.TinyHfCheckpoint.VOCAB;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * transformers' LlamaForCausalLM forward pass in float64, written plainly over the HF tensors:
 * RoPE as HF applies it (rotate_half: element j pairs with j + d/2, on the unpermuted Q/K rows),
 * with Llama 3 frequency scaling computed as _compute_llama3_parameters does. It shares no code
 * with the converter or the runtime, so agreeing with them checks the Q/K permutation and rope_freqs.
 */
final class HfReferenceForward {
    private final Function<String, float[]> weights;
    private final double[] inverseFrequencies;

    /** @param weights HF tensor name to its values (row-major); lm_head.weight may be absent (tied) */
    HfReferenceForward(Function<String, float[]> weights) {
        this.weights = weights;
        inverseFrequencies = llama3InverseFrequencies(500000.0, 32.0, 1.0, 4.0, 8192.0);
    }

    private static double[] llama3InverseFrequencies(double base, double factor, double lowFreqFactor,
            double highFreqFactor, double oldContext) {
        double[] inv = new double[HEAD_DIM / 2];
        double lowFreqWavelen = oldContext / lowFreqFactor;
        double highFreqWavelen = oldContext / highFreqFactor;
        for (int j = 0; j < inv.length; j++) {
            double freq = 1.0 / Math.pow(base, 2.0 * j / HEAD_DIM);
            double wavelen = 2 * Math.PI / freq;
            double scaled = wavelen > lowFreqWavelen ? freq / factor : freq;
            double smooth = (oldContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
            boolean medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
            inv[j] = medium ? (1 - smooth) * scaled / factor + smooth * scaled : scaled;
        }
        return inv;
    }

    /** Logits after each token. */
    List<double[]> logits(int[] tokens) {
        List<double[][]> keys = new ArrayList<>();
        List<double[][]> values = new ArrayList<>();
        for (int l = 0; l < LAYERS; l++) {
            keys.add(new double[tokens.length][]);
            values.add(new double[tokens.length][]);
        }
        List<double[]> out = new ArrayList<>();
        float[] embedding = weights.apply("model.embed_tokens.weight");
        float[] lmHead = weights.apply("lm_head.weight");
        if (lmHead == null) {
            lmHead = embedding;
        }
        for (int pos = 0; pos < tokens.length; pos++) {
            double[] x = new double[DIM];
            for (int i = 0; i < DIM; i++) {
                x[i] = embedding[tokens[pos] * DIM + i];
            }
            for (int l = 0; l < LAYERS; l++) {
                String p = "model.layers." + l + ".";
                double[] h = rmsNorm(x, weights.apply(p + "input_layernorm.weight"));
                double[] q = matVec(weights.apply(p + "self_attn.q_proj.weight"), HEADS * HEAD_DIM, DIM, h);
                double[] k = matVec(weights.apply(p + "self_attn.k_proj.weight"), KV_HEADS * HEAD_DIM, DIM, h);
                double[] v = matVec(weights.apply(p + "self_attn.v_proj.weight"), KV_HEADS * HEAD_DIM, DIM, h);
                rotateHalf(q, HEADS, pos);
                rotateHalf(k, KV_HEADS, pos);
                keys.get(l)[pos] = k;
                values.get(l)[pos] = v;
                double[] attention = new double[HEADS * HEAD_DIM];
                for (int head = 0; head < HEADS; head++) {
                    int kvHead = head / (HEADS / KV_HEADS);
                    double[] scores = new double[pos + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int t = 0; t <= pos; t++) {
                        double s = 0;
                        for (int i = 0; i < HEAD_DIM; i++) {
                            s += q[head * HEAD_DIM + i] * keys.get(l)[t][kvHead * HEAD_DIM + i];
                        }
                        scores[t] = s / Math.sqrt(HEAD_DIM);
                        max = Math.max(max, scores[t]);
                    }
                    double sum = 0;
                    for (int t = 0; t <= pos; t++) {
                        scores[t] = Math.exp(scores[t] - max);
                        sum += scores[t];
                    }
                    for (int t = 0; t <= pos; t++) {
                        for (int i = 0; i < HEAD_DIM; i++) {
                            attention[head * HEAD_DIM + i] += scores[t] / sum * values.get(l)[t][kvHead * HEAD_DIM + i];
                        }
                    }
                }
                add(x, matVec(weights.apply(p + "self_attn.o_proj.weight"), DIM, HEADS * HEAD_DIM, attention));
                double[] h2 = rmsNorm(x, weights.apply(p + "post_attention_layernorm.weight"));
                double[] gate = matVec(weights.apply(p + "mlp.gate_proj.weight"), FFN, DIM, h2);
                double[] up = matVec(weights.apply(p + "mlp.up_proj.weight"), FFN, DIM, h2);
                for (int i = 0; i < FFN; i++) {
                    gate[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
                }
                add(x, matVec(weights.apply(p + "mlp.down_proj.weight"), DIM, FFN, gate));
            }
            out.add(matVec(lmHead, VOCAB, DIM, rmsNorm(x, weights.apply("model.norm.weight"))));
        }
        return out;
    }

    /** HF apply_rotary_pos_emb: q * cos + rotate_half(q) * sin, rotate_half(q) = cat(-q2, q1). */
    private void rotateHalf(double[] vector, int heads, int pos) {
        int half = HEAD_DIM / 2;
        for (int head = 0; head < heads; head++) {
            int base = head * HEAD_DIM;
            for (int j = 0; j < half; j++) {
                double angle = pos * inverseFrequencies[j];
                double first = vector[base + j];
                double second = vector[base + j + half];
                vector[base + j] = first * Math.cos(angle) - second * Math.sin(angle);
                vector[base + j + half] = second * Math.cos(angle) + first * Math.sin(angle);
            }
        }
    }

    private static double[] rmsNorm(double[] x, float[] weight) {
        double sum = 0;
        for (double v : x) {
            sum += v * v;
        }
        double scale = 1 / Math.sqrt(sum / x.length + 1e-5);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * scale * weight[i];
        }
        return out;
    }

    private static double[] matVec(float[] matrix, int rows, int columns, double[] x) {
        double[] out = new double[rows];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int c = 0; c < columns; c++) {
                s += matrix[r * columns + c] * x[c];
            }
            out[r] = s;
        }
        return out;
    }

    private static void add(double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) {
            x[i] += y[i];
        }
    }
}
