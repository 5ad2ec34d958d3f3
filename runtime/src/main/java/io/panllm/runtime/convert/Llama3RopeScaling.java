package io.panllm.runtime.convert;

/**
 * Llama 3's RoPE frequency scaling as llama.cpp stores it: one factor per rotated pair in
 * {@code rope_freqs.weight}, by which the pair's wavelength is multiplied (convert_hf_to_gguf.py,
 * LlamaModel.generate_extra_tensors). High frequencies keep factor 1, low frequencies get
 * {@code factor}, and the band in between is interpolated smoothly.
 */
public final class Llama3RopeScaling {
    private Llama3RopeScaling() {
    }

    /**
     * @param ropeTheta       RoPE base
     * @param headDim         rotated dimension (the factors cover headDim / 2 pairs)
     * @param originalContext original_max_position_embeddings (8192 for Llama 3)
     */
    public static float[] factors(double ropeTheta, int headDim, double factor, double lowFreqFactor, double highFreqFactor,
            double originalContext) {
        double lowFreqWavelen = originalContext / lowFreqFactor;
        double highFreqWavelen = originalContext / highFreqFactor;
        float[] out = new float[headDim / 2];
        for (int i = 0; i < out.length; i++) {
            double freq = 1.0 / Math.pow(ropeTheta, (2.0 * i) / headDim);
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highFreqWavelen) {
                out[i] = 1f;
            } else if (wavelen > lowFreqWavelen) {
                out[i] = (float) factor;
            } else {
                double smooth = (originalContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                out[i] = (float) (1.0 / ((1 - smooth) / factor + smooth));
            }
        }
        return out;
    }
}
