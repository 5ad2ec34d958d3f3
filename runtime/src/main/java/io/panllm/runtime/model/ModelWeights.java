package io.panllm.runtime.model;

import io.panllm.gguf.GgufFile;
import io.panllm.gguf.GgufTensorInfo;
import io.panllm.tensor.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every tensor of a Llama-family model by its llama.cpp name, checked against the configuration.
 * The views are not copies: they stay valid as long as the memory they slice (a GGUF mapping, an
 * arena of converted tensors) does.
 */
public final class ModelWeights {
    public static final String TOKEN_EMBEDDING = "token_embd.weight";
    public static final String OUTPUT_NORM = "output_norm.weight";
    public static final String OUTPUT = "output.weight";
    public static final String ROPE_FREQS = "rope_freqs.weight";
    /** Suffix of the companion tensor holding an INT8 matrix's row absmax: X.weight -> X.scb. */
    public static final String ROW_SCALES_SUFFIX = ".scb";

    private final ModelConfig config;
    private final TensorView tokenEmbedding;
    private final List<LayerWeights> layers;
    private final TensorView outputNorm;
    private final TensorView output;
    private final TensorView ropeFreqs;
    private final boolean tiedOutput;
    private final Map<String, TensorView> all;

    private ModelWeights(ModelConfig config, Map<String, TensorView> stored, String source) {
        this.config = config;
        Map<String, long[]> shapes = new LinkedHashMap<>();
        stored.forEach((name, t) -> shapes.put(name, t.shape()));
        try {
            ModelValidator.checkTensors(config, shapes); // before anything is sized by the configuration
        } catch (ModelException e) {
            throw new ModelException(source + ": " + e.getMessage(), e);
        }
        Map<String, TensorView> tensors = withRowScales(stored, source);
        Lookup in = new Lookup(tensors, source);
        int dim = config.embeddingLength();
        int vocab = config.vocabSize();
        tokenEmbedding = in.matrix(TOKEN_EMBEDDING, dim, vocab);
        outputNorm = in.vector(OUTPUT_NORM, dim);
        tiedOutput = !tensors.containsKey(OUTPUT);
        output = tiedOutput ? tokenEmbedding : in.matrix(OUTPUT, dim, vocab);
        ropeFreqs = tensors.containsKey(ROPE_FREQS) ? in.vector(ROPE_FREQS, config.ropeDimensionCount() / 2) : null;

        List<LayerWeights> blocks = new ArrayList<>();
        int qDim = config.queryDim();
        int kvDim = config.kvDim();
        int ffn = config.feedForwardLength();
        for (int i = 0; i < config.blockCount(); i++) {
            String p = "blk." + i + ".";
            blocks.add(new LayerWeights(
                    in.vector(p + "attn_norm.weight", dim),
                    in.matrix(p + "attn_q.weight", dim, qDim),
                    in.matrix(p + "attn_k.weight", dim, kvDim),
                    in.matrix(p + "attn_v.weight", dim, kvDim),
                    in.optionalVector(p + "attn_q.bias", qDim),
                    in.optionalVector(p + "attn_k.bias", kvDim),
                    in.optionalVector(p + "attn_v.bias", kvDim),
                    in.matrix(p + "attn_output.weight", qDim, dim),
                    in.vector(p + "ffn_norm.weight", dim),
                    in.matrix(p + "ffn_gate.weight", dim, ffn),
                    in.matrix(p + "ffn_up.weight", dim, ffn),
                    in.matrix(p + "ffn_down.weight", ffn, dim)));
        }
        layers = Collections.unmodifiableList(blocks);
        all = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }

    /** The name of the tensor holding the row absmax of the INT8 matrix {@code weightName}. */
    public static String rowScalesName(String weightName) {
        return weightName.replaceFirst("\\.weight$", "") + ROW_SCALES_SUFFIX;
    }

    /**
     * The tensors with each I8 matrix's companion row absmax ({@link #rowScalesName}) attached to
     * it: LLM.int8 weights are only meaningful with their scales.
     */
    private static Map<String, TensorView> withRowScales(Map<String, TensorView> tensors, String source) {
        Map<String, TensorView> out = new LinkedHashMap<>(tensors);
        for (TensorView t : tensors.values()) {
            if (t.type() != GgmlType.I8 || t.shape().length < 2 || t.rowScales() != null) {
                continue;
            }
            TensorView scales = tensors.get(rowScalesName(t.name()));
            checkRowScales(t.name(), t.shape(), scales == null ? null : scales.type(), scales == null ? null : scales.shape(), source);
            float[] scb = new float[Math.toIntExact(t.rows())];
            MemorySegment.copy(scales.data(), ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, scb, 0,
                    scb.length);
            out.put(t.name(), t.withRowScales(scb));
        }
        return out;
    }

    /**
     * Checks that the INT8 matrix {@code weightName} of {@code shape} has whole rows and its row
     * absmax companion ({@link #rowScalesName}) is an F32 vector of one value per row.
     *
     * @param scalesType null when the companion is missing
     */
    public static void checkRowScales(String weightName, long[] shape, GgmlType scalesType, long[] scalesShape, String source) {
        long rowLength = shape[0];
        long rows = 1;
        for (int i = 1; i < shape.length; i++) {
            rows *= shape[i];
        }
        if (rowLength <= 0 || rows <= 0) {
            throw new ModelException(source + ": INT8 tensor '" + weightName + "' has the empty shape " + java.util.Arrays.toString(shape));
        }
        if (scalesType != GgmlType.F32 || !TensorView.hasShape(scalesShape, rows)) {
            throw new ModelException(source + ": INT8 tensor '" + weightName + "' needs its row absmax as an F32 tensor '"
                    + rowScalesName(weightName) + "' of shape [" + rows + "]"
                    + (scalesType == null ? ", which is missing" : ", found " + scalesType + " " + java.util.Arrays.toString(scalesShape)));
        }
    }

    /** The weights of a model in memory (for example a converted llama2.c checkpoint). */
    public static ModelWeights of(ModelConfig config, Map<String, TensorView> tensors) {
        return new ModelWeights(config, tensors, "model");
    }

    /** Zero-copy views over a GGUF file's tensors; valid until the file is closed. */
    public static ModelWeights fromGguf(GgufFile file, ModelConfig config) {
        Map<String, TensorView> views = new LinkedHashMap<>();
        for (GgufTensorInfo info : file.tensors()) {
            views.put(info.name(), new TensorView(info.name(), info.type(), info.shape(), file.tensorData(info)));
        }
        return new ModelWeights(config, views, file.path().toString());
    }

    public ModelConfig config() {
        return config;
    }

    public TensorView tokenEmbedding() {
        return tokenEmbedding;
    }

    public LayerWeights layer(int i) {
        return layers.get(i);
    }

    public List<LayerWeights> layers() {
        return layers;
    }

    public TensorView outputNorm() {
        return outputNorm;
    }

    /** The LM head: output.weight, or the token embedding when the model ties them. */
    public TensorView output() {
        return output;
    }

    public boolean tiedOutput() {
        return tiedOutput;
    }

    /** Llama 3 RoPE frequency factors, one per rotary pair, or null. */
    public TensorView ropeFreqs() {
        return ropeFreqs;
    }

    /** Every tensor by name, including ones the forward pass does not use. */
    public Map<String, TensorView> tensors() {
        return all;
    }

    /** Total bytes of all tensors. */
    public long byteSize() {
        long bytes = 0;
        for (TensorView t : all.values()) {
            bytes += t.data().byteSize();
        }
        return bytes;
    }

    /**
     * Bytes a forward pass reads from the weights whatever its number of tokens: every tensor
     * but the token embedding, of which only the tokens' rows are read (one row counted), unless
     * it is also the LM head. The floor of a decode step's memory traffic (the KV cache aside).
     */
    public long bytesReadPerPass() {
        long embedding = tokenEmbedding.data().byteSize();
        return byteSize() - (tiedOutput ? 0 : embedding - tokenEmbedding.rowBytes());
    }

    /** Finds tensors and checks their shapes, naming the source in every error. */
    private record Lookup(Map<String, TensorView> tensors, String source) {

        TensorView matrix(String name, int inputs, int outputs) {
            TensorView t = require(name);
            if (!t.hasShape(inputs, outputs)) {
                throw wrongShape(t, "[" + inputs + ", " + outputs + "]");
            }
            return t;
        }

        TensorView vector(String name, int length) {
            TensorView t = require(name);
            if (!t.hasShape(length)) {
                throw wrongShape(t, "[" + length + "]");
            }
            return t;
        }

        TensorView optionalVector(String name, int length) {
            return tensors.containsKey(name) ? vector(name, length) : null;
        }

        private TensorView require(String name) {
            TensorView t = tensors.get(name);
            if (t == null) {
                throw new ModelException(source + ": tensor '" + name + "' is missing");
            }
            return t;
        }

        private ModelException wrongShape(TensorView t, String expected) {
            return new ModelException(source + ": tensor '" + t.name() + "' has shape " + java.util.Arrays.toString(t.shape())
                    + ", expected " + expected);
        }
    }
}
