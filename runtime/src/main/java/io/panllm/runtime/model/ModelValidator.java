package io.panllm.runtime.model;

import java.util.Arrays;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks a model's tensors against its configuration before anything is built from them: the
 * number of blocks the tensors hold equals block_count (so a huge count in the metadata is
 * refused, not allocated), and every tensor the forward pass reads is there in the shape the
 * configuration implies. {@link ModelConfig#fromMetadata} runs it for every command that opens a
 * model, whether to run it or to convert it.
 */
public final class ModelValidator {
    private static final Pattern BLOCK = Pattern.compile("^blk\\.(\\d{1,9})\\.");

    private ModelValidator() {
    }

    /** @param shapes every tensor's shape by its llama.cpp name, in ggml order (row length first) */
    public static void checkTensors(ModelConfig c, Map<String, long[]> shapes) {
        int dim = c.embeddingLength();
        int qDim = c.queryDim();
        int kvDim = c.kvDim();
        int ffn = c.feedForwardLength();
        expect(shapes, ModelWeights.TOKEN_EMBEDDING, true, dim, c.vocabSize());
        expect(shapes, ModelWeights.OUTPUT_NORM, true, dim);
        expect(shapes, ModelWeights.OUTPUT, false, dim, c.vocabSize());
        expect(shapes, ModelWeights.ROPE_FREQS, false, c.ropeDimensionCount() / 2);
        int highest = -1;
        for (String name : shapes.keySet()) {
            Matcher m = BLOCK.matcher(name);
            if (m.find()) {
                highest = Math.max(highest, Integer.parseInt(m.group(1)));
            }
        }
        if (highest + 1 != c.blockCount()) {
            throw new ModelException("block_count is " + c.blockCount() + " but the tensors are of " + (highest + 1) + " blocks");
        }
        for (int i = 0; i < c.blockCount(); i++) {
            String p = "blk." + i + ".";
            expect(shapes, p + "attn_norm.weight", true, dim);
            expect(shapes, p + "attn_q.weight", true, dim, qDim);
            expect(shapes, p + "attn_k.weight", true, dim, kvDim);
            expect(shapes, p + "attn_v.weight", true, dim, kvDim);
            expect(shapes, p + "attn_q.bias", false, qDim);
            expect(shapes, p + "attn_k.bias", false, kvDim);
            expect(shapes, p + "attn_v.bias", false, kvDim);
            expect(shapes, p + "attn_output.weight", true, qDim, dim);
            expect(shapes, p + "ffn_norm.weight", true, dim);
            expect(shapes, p + "ffn_gate.weight", true, dim, ffn);
            expect(shapes, p + "ffn_up.weight", true, dim, ffn);
            expect(shapes, p + "ffn_down.weight", true, ffn, dim);
        }
    }

    private static void expect(Map<String, long[]> shapes, String name, boolean required, long... expected) {
        long[] shape = shapes.get(name);
        if (shape == null) {
            if (required) {
                throw new ModelException("tensor '" + name + "' is missing");
            }
            return;
        }
        if (!TensorView.hasShape(shape, expected)) {
            throw new ModelException("tensor '" + name + "' has shape " + Arrays.toString(shape) + ", expected "
                    + Arrays.toString(expected));
        }
    }
}
