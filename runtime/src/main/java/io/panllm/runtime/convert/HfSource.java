package io.panllm.runtime.convert;

import io.panllm.gguf.GgufValue;
import io.panllm.hf.HfConfig;
import io.panllm.hf.HfConfigException;
import io.panllm.safetensors.BnbTensors;
import io.panllm.safetensors.SafetensorsCheckpoint;
import io.panllm.safetensors.SafetensorsDtype;
import io.panllm.safetensors.SafetensorsException;
import io.panllm.safetensors.SafetensorsTensor;
import io.panllm.runtime.tokenizer.GgufTokenizerMetadata;
import io.panllm.runtime.tokenizer.Tokenizer;
import io.panllm.runtime.tokenizer.Tokenizers;
import io.panllm.tensor.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A Hugging Face Llama checkpoint directory (config.json, model.safetensors or shards with their
 * index, tokenizer.json + tokenizer_config.json) as a model source, mapped the way llama.cpp's
 * convert_hf_to_gguf.py maps it:
 *
 * <pre>
 * model.embed_tokens                     token_embd      model.layers.N.mlp.gate_proj          blk.N.ffn_gate
 * model.layers.N.self_attn.q_proj        blk.N.attn_q *  model.layers.N.mlp.up_proj            blk.N.ffn_up
 * model.layers.N.self_attn.k_proj        blk.N.attn_k *  model.layers.N.mlp.down_proj          blk.N.ffn_down
 * model.layers.N.self_attn.v_proj        blk.N.attn_v    model.layers.N.input_layernorm        blk.N.attn_norm
 * model.layers.N.self_attn.o_proj        blk.N.attn_output model.layers.N.post_attention_layernorm blk.N.ffn_norm
 * model.norm                             output_norm     lm_head                               output (omitted when tied or absent)
 * </pre>
 *
 * (*) Q and K rows are permuted as LlamaModel.permute does, so that llama.cpp's adjacent-pair
 * RoPE equals Hugging Face's rotate_half RoPE: within each head of d rows, GGUF row 2j + i is HF
 * row i * d/2 + j (i in {0, 1}). The permutation happens while rows are read, one row at a time.
 * Llama 3 rope scaling adds {@code rope_freqs.weight}.
 *
 * <p>Weights may be F32, F16, BF16, or bitsandbytes NF4 / FP4 / LLM.int8 ({@link BnbTensors}); they
 * are decoded to float32 rows and the converter quantizes them to the requested type. Unquantized
 * matrices that need no permutation are offered raw, so a BF16 checkpoint converts to BF16 by copying.
 * Re-quantizing a bitsandbytes NF4 / FP4 weight to panllm's NF4 / FP4 extension gives back its codes
 * (the block maximum decodes to exactly the absmax), apart from the absmax's rounding to fp16.
 * A 4-bit weight holds its decoded absmax values while open (4 bytes per 64 weights), so only the
 * weight being converted is kept open ({@link OpenWeight}).
 */
public final class HfSource implements ModelSource {
    private final Path directory;
    private final HfConfig config;
    private final SafetensorsCheckpoint checkpoint;
    private final Tokenizer tokenizer;
    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<SourceTensor> tensors = new ArrayList<>();
    private final Set<String> modules = new HashSet<>();
    private final OpenWeight openWeight = new OpenWeight();
    private BnbTensors.Kind storage = BnbTensors.Kind.PLAIN;

    /** @param location a checkpoint directory, or one .safetensors file inside it */
    public HfSource(Path location) {
        directory = Files.isDirectory(location) ? location : location.toAbsolutePath().getParent();
        try {
            config = HfConfig.read(directory);
        } catch (HfConfigException e) {
            throw new ConvertException(e.getMessage(), e);
        }
        checkArchitecture();
        try {
            checkpoint = SafetensorsCheckpoint.open(location);
        } catch (SafetensorsException e) {
            throw new ConvertException(e.getMessage(), e);
        }
        try {
            tokenizer = Tokenizers.fromHfJson(requireFile("tokenizer.json"));
            if (tokenizer.vocabSize() != config.vocabSize()) {
                throw new ConvertException(directory + ": tokenizer.json has " + tokenizer.vocabSize()
                        + " tokens, config.json vocab_size is " + config.vocabSize());
            }
            putMetadata();
            addTensors();
            checkNothingLeftOver();
        } catch (SafetensorsException e) {
            checkpoint.close();
            throw new ConvertException(e.getMessage(), e);
        } catch (RuntimeException e) {
            checkpoint.close();
            throw e;
        }
    }

    private void checkArchitecture() {
        boolean llama = config.architectures().contains("LlamaForCausalLM")
                || (config.architectures().isEmpty() && "llama".equals(config.modelType()));
        if (!llama) {
            throw new ConvertException(directory + ": architecture " + config.architectures()
                    + " is not supported (panllm converts LlamaForCausalLM checkpoints)");
        }
        try {
            config.requireSupported(directory.resolve(HfConfig.FILE_NAME).toString());
        } catch (HfConfigException e) {
            throw new ConvertException(e.getMessage(), e);
        }
    }

    private Path requireFile(String name) {
        Path p = directory.resolve(name);
        if (!Files.isRegularFile(p)) {
            throw new ConvertException(directory + ": no " + name + " (the tokenizer must come with the checkpoint)");
        }
        return p;
    }

    private void putMetadata() {
        String arch = "llama";
        HfConfig c = config;
        metadata.put("general.architecture", GgufValue.ofString(arch));
        metadata.put("general.name", GgufValue.ofString(directory.toAbsolutePath().getFileName().toString()));
        metadata.put(arch + ".block_count", GgufValue.ofUInt32(c.numHiddenLayers()));
        metadata.put(arch + ".context_length", GgufValue.ofUInt32(c.maxPositionEmbeddings()));
        metadata.put(arch + ".embedding_length", GgufValue.ofUInt32(c.hiddenSize()));
        metadata.put(arch + ".feed_forward_length", GgufValue.ofUInt32(c.intermediateSize()));
        metadata.put(arch + ".attention.head_count", GgufValue.ofUInt32(c.numAttentionHeads()));
        metadata.put(arch + ".attention.head_count_kv", GgufValue.ofUInt32(c.numKeyValueHeads()));
        metadata.put(arch + ".rope.freq_base", GgufValue.ofFloat32((float) c.ropeTheta()));
        metadata.put(arch + ".attention.layer_norm_rms_epsilon", GgufValue.ofFloat32((float) c.rmsNormEps()));
        // convert_hf_to_gguf.py writes these when config.json has head_dim, as every Llama 3 config does.
        metadata.put(arch + ".attention.key_length", GgufValue.ofUInt32(c.headDim()));
        metadata.put(arch + ".attention.value_length", GgufValue.ofUInt32(c.headDim()));
        metadata.put(arch + ".vocab_size", GgufValue.ofUInt32(c.vocabSize()));
        metadata.put(arch + ".rope.dimension_count", GgufValue.ofUInt32(c.headDim()));
        if (c.ropeScaling() != null && "linear".equalsIgnoreCase(c.ropeScaling().type())) {
            metadata.put(arch + ".rope.scaling.type", GgufValue.ofString("linear"));
            metadata.put(arch + ".rope.scaling.factor", GgufValue.ofFloat32((float) c.ropeScaling().factor()));
        }
        metadata.putAll(GgufTokenizerMetadata.write(tokenizer.vocabulary()));
    }

    private void addTensors() {
        HfConfig c = config;
        matrix("token_embd.weight", 0);
        if (c.ropeScaling() != null && c.ropeScaling().isLlama3()) {
            HfConfig.RopeScaling s = c.ropeScaling();
            float[] factors = Llama3RopeScaling.factors(c.ropeTheta(), c.headDim(), s.factor(), s.lowFreqFactor(),
                    s.highFreqFactor(), s.originalMaxPositionEmbeddings());
            tensors.add(new SourceTensor("rope_freqs.weight", new long[] {factors.length}, GgmlType.F32, null,
                    (first, count, dst) -> System.arraycopy(factors, 0, dst, 0, factors.length)));
        }
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String gguf = "blk." + l + ".";
            vector(gguf + "attn_norm.weight");
            matrix(gguf + "attn_q.weight", c.numAttentionHeads());
            matrix(gguf + "attn_k.weight", c.numKeyValueHeads());
            matrix(gguf + "attn_v.weight", 0);
            matrix(gguf + "attn_output.weight", 0);
            vector(gguf + "ffn_norm.weight");
            matrix(gguf + "ffn_gate.weight", 0);
            matrix(gguf + "ffn_up.weight", 0);
            matrix(gguf + "ffn_down.weight", 0);
        }
        vector("output_norm.weight");
        if (checkpoint.has("lm_head.weight")) {
            if (c.tieWordEmbeddings()) {
                modules.add("lm_head"); // a tied copy: llama.cpp uses token_embd
            } else {
                matrix("output.weight", 0);
            }
        }
    }

    /** The HF module of a llama.cpp tensor name ("model.layers.0.self_attn.q_proj" for blk.0.attn_q.weight). */
    private static String module(String ggufName) {
        String hf = LlamaTensorNames.hfName(ggufName);
        return hf.substring(0, hf.length() - ".weight".length());
    }

    /**
     * Adds a matrix; {@code heads} > 0 asks for the Q/K row permutation with that many heads.
     */
    private void matrix(String ggufName, int heads) {
        String module = module(ggufName);
        modules.add(module);
        BnbTensors.Weight opened = BnbTensors.weight(checkpoint, module); // checks every tensor of its layout now
        if (opened.shape().length != 2) {
            throw new ConvertException(module + ".weight: shape " + java.util.Arrays.toString(opened.shape()) + " is not a matrix");
        }
        BnbTensors.Kind kind = opened.kind();
        if (kind != BnbTensors.Kind.PLAIN) {
            storage = kind;
        }
        long rows = opened.rows();
        int columns = Math.toIntExact(opened.rowLength());
        long[] shape = {columns, rows};
        GgmlType stored = storedType(opened);
        if (heads <= 0) {
            // Unpermuted plain matrices have GGUF's byte layout already: offer them for copying.
            MemorySegment raw = kind == BnbTensors.Kind.PLAIN && stored != null ? checkpoint.require(module + ".weight").data() : null;
            tensors.add(new SourceTensor(ggufName, shape, stored, raw,
                    (first, count, dst) -> openWeight.get(module).readRows(first, count, dst)));
            return;
        }
        if (rows % heads != 0 || (rows / heads) % 2 != 0) {
            throw new ConvertException(module + ".weight: " + rows + " rows do not split into " + heads + " heads of even size");
        }
        int headDim = Math.toIntExact(rows / heads);
        tensors.add(new SourceTensor(ggufName, shape, stored, null, (first, count, dst) -> {
            BnbTensors.Weight w = openWeight.get(module);
            float[] row = new float[columns];
            for (int r = 0; r < count; r++) {
                w.readRows(hfRowOf(first + r, headDim), 1, row);
                System.arraycopy(row, 0, dst, r * columns, columns);
            }
        }));
    }

    /**
     * The one weight open for reading. The converter writes one tensor at a time (its row chunks in
     * parallel), so one slot is enough and no more than one weight's decoded absmax is held.
     */
    private final class OpenWeight {
        private String module;
        private BnbTensors.Weight weight;

        synchronized BnbTensors.Weight get(String wanted) {
            if (!wanted.equals(module)) {
                weight = BnbTensors.weight(checkpoint, wanted);
                module = wanted;
            }
            return weight;
        }
    }

    /**
     * The HF row that becomes GGUF row {@code ggufRow} under LlamaModel.permute:
     * w.reshape(n_head, 2, d/2, cols).swapaxes(1, 2) puts HF row (h, i, j) at (h, j, i).
     */
    static long hfRowOf(long ggufRow, int headDim) {
        long head = ggufRow / headDim;
        int within = (int) (ggufRow % headDim);
        int j = within / 2;
        int i = within % 2;
        return head * headDim + (long) i * (headDim / 2) + j;
    }

    private void vector(String ggufName) {
        String module = module(ggufName);
        modules.add(module);
        String name = module + ".weight";
        SafetensorsTensor t = checkpoint.require(name);
        if (t.shape().length != 1 || !isFloat(t.dtype())) {
            throw new ConvertException(checkpoint.path() + ": " + name + " should be a float vector, is " + t);
        }
        int n = Math.toIntExact(t.elementCount());
        tensors.add(new SourceTensor(ggufName, new long[] {n}, GgmlType.F32, null,
                (first, count, dst) -> t.readFloats(0, dst, 0, n)));
    }

    /** The GGUF type naming how the checkpoint stores a weight (null where GGUF has none, e.g. F64). */
    private static GgmlType storedType(BnbTensors.Weight w) {
        return switch (w) {
            case BnbTensors.FourBit f -> f.type() == io.panllm.tensor.Bnb4bit.QuantType.NF4 ? GgmlType.NF4 : GgmlType.FP4;
            case BnbTensors.Int8 i -> GgmlType.I8;
            case BnbTensors.Plain p -> switch (p.tensor().dtype()) {
                case F32 -> GgmlType.F32;
                case F16 -> GgmlType.F16;
                case BF16 -> GgmlType.BF16;
                default -> null;
            };
        };
    }

    private static boolean isFloat(SafetensorsDtype d) {
        return d == SafetensorsDtype.F32 || d == SafetensorsDtype.F16 || d == SafetensorsDtype.BF16 || d == SafetensorsDtype.F64;
    }

    /** Anything the mapping did not use means this is not the plain Llama checkpoint it claims to be. */
    private void checkNothingLeftOver() {
        List<String> unused = new ArrayList<>();
        for (String name : checkpoint.names()) {
            if (name.endsWith(".rotary_emb.inv_freq")) {
                continue; // recomputed from rope_theta, as convert_hf_to_gguf.py skips it
            }
            int cut = name.indexOf(".weight");
            String module = cut < 0 ? name.substring(0, Math.max(0, name.lastIndexOf('.'))) : name.substring(0, cut);
            if (!modules.contains(module)) {
                unused.add(name);
            }
        }
        if (!unused.isEmpty()) {
            throw new ConvertException(directory + ": " + unused.size() + " tensors have no llama.cpp name, e.g. "
                    + unused.subList(0, Math.min(3, unused.size())) + " (not a plain Llama checkpoint?)");
        }
    }

    public HfConfig config() {
        return config;
    }

    /** The checkpoint directory (config.json and the tokenizer files are in it). */
    public Path directory() {
        return directory;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public Map<String, GgufValue> metadata() {
        return metadata;
    }

    @Override
    public List<SourceTensor> tensors() {
        return tensors;
    }

    @Override
    public String description() {
        String stored = storage == BnbTensors.Kind.PLAIN
                ? (config.torchDtype() == null ? "float" : config.torchDtype())
                : "bitsandbytes " + storage.name().toLowerCase(Locale.ROOT);
        return "HF checkpoint " + directory + " (" + stored + ")";
    }

    @Override
    public void close() {
        checkpoint.close();
    }
}
