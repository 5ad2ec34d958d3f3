package io.panllm.runtime.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.panllm.gguf.GgufMetadata;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * config.json's rope_scaling for a GGUF model. Linear scaling is in the metadata. Llama 3 scaling
 * is only in {@code rope_freqs.weight} (one factor per rotated pair), so its parameters are
 * recovered: factor is the largest factor; low_freq_factor, high_freq_factor and
 * original_max_position_embeddings are the Llama 3.1/3.2 values (1, 4, 8192) when they reproduce
 * the factors, else fitted to the transition band assuming low_freq_factor 1. Whatever is chosen
 * must reproduce every stored factor (to 1e-6), or the model is refused: a config.json that
 * computes other frequencies would be a different model.
 */
final class RopeScalingRecovery {
    private RopeScalingRecovery() {
    }

    private static final double TOLERANCE = 1e-6;

    /** The rope_scaling object, or a JSON null when the model has no scaling. */
    static JsonNode ropeScaling(ModelSource source, GgufMetadata meta, double theta, int headDim) {
        String type = meta.getString("llama.rope.scaling.type", "none");
        SourceTensor freqs = source.tensors().stream().filter(t -> t.name().equals("rope_freqs.weight")).findFirst().orElse(null);
        ObjectNode scaling = JsonNodeFactory.instance.objectNode();
        switch (type) {
            case "none" -> {
                if (freqs == null) {
                    return JsonNodeFactory.instance.nullNode();
                }
            }
            case "linear" -> {
                if (freqs != null) {
                    throw new ConvertException(source.description() + ": both linear rope scaling and rope_freqs.weight;"
                            + " LlamaConfig has one rope_scaling");
                }
                scaling.put("factor", HfConfigJson.shortest(meta.getFloat("llama.rope.scaling.factor", 1f)));
                scaling.put("rope_type", "linear");
                scaling.put("type", "linear");
                return scaling;
            }
            default -> throw new ConvertException(source.description() + ": rope scaling '" + type
                    + "' cannot be written as a LlamaConfig rope_scaling (none, linear and Llama 3's rope_freqs can)");
        }
        float[] stored = read(freqs);
        if (stored.length != headDim / 2) {
            throw new ConvertException(source.description() + ": rope_freqs.weight has " + stored.length + " factors for "
                    + headDim / 2 + " rotated pairs");
        }
        float factor = stored[0];
        for (float f : stored) {
            factor = Math.max(factor, f);
        }
        for (double[] c : candidates(stored, factor, theta, headDim)) {
            if (reproduces(stored, theta, headDim, factor, c[0], c[1], c[2])) {
                scaling.put("factor", HfConfigJson.shortest(factor));
                scaling.put("high_freq_factor", c[1]);
                scaling.put("low_freq_factor", c[0]);
                scaling.put("original_max_position_embeddings", (int) c[2]);
                scaling.put("rope_type", "llama3");
                return scaling;
            }
        }
        throw new ConvertException(source.description() + ": rope_freqs.weight holds factors that no Llama 3 rope_scaling"
                + " reproduces; config.json cannot express this model's RoPE");
    }

    private static float[] read(SourceTensor t) {
        float[] values = new float[Math.toIntExact(t.elementCount())];
        try {
            t.rows().read(0, 1, values);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return values;
    }

    /** {low, high, original context} to try: Llama 3.1/3.2's, then a fit of the transition band with low = 1. */
    private static List<double[]> candidates(float[] stored, float factor, double theta, int headDim) {
        List<double[]> out = new ArrayList<>();
        out.add(new double[] {1.0, 4.0, 8192});
        // In the band, 1/f = (1 - s)/factor + s with s = (orig/wavelen - low)/(high - low): linear in 1/wavelen.
        List<double[]> band = new ArrayList<>();
        for (int i = 0; i < stored.length; i++) {
            if (stored[i] > 1 + 1e-4 && stored[i] < factor - 1e-4) {
                double freq = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
                double s = (1.0 / stored[i] - 1.0 / factor) / (1 - 1.0 / factor);
                band.add(new double[] {freq / (2 * Math.PI), s});
            }
        }
        if (band.size() >= 2) {
            double[] p = band.getFirst();
            double[] q = band.getLast();
            double slope = (q[1] - p[1]) / (q[0] - p[0]); // orig / (high - low)
            double intercept = p[1] - slope * p[0];       // -low / (high - low)
            if (intercept < 0) {
                double high = Math.round((1 - 1 / intercept) * 1e6) / 1e6;
                double orig = Math.round(slope * (high - 1));
                out.add(new double[] {1.0, high, orig});
            }
        }
        return out;
    }

    private static boolean reproduces(float[] stored, double theta, int headDim, double factor, double low, double high,
            double orig) {
        if (!(high > low) || !(orig > 0)) {
            return false;
        }
        float[] f = Llama3RopeScaling.factors(theta, headDim, factor, low, high, orig);
        for (int i = 0; i < f.length; i++) {
            if (Math.abs(f[i] - stored[i]) > TOLERANCE * Math.max(1, Math.abs(stored[i]))) {
                return false;
            }
        }
        return true;
    }
}
