package io.panllm.llama2c;

import io.panllm.io.MappedFile;
import io.panllm.tensor.GgmlType;
import io.panllm.tensor.LittleEndian;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A checkpoint written by karpathy's llama2.c ({@code export.py}), memory-mapped. Three layouts:
 *
 * <pre>
 * legacy (version 0): int32 dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size (negative:
 *   separate classifier), seq_len; then float32 token_embedding, rms_att[L], wq[L], wk[L], wv[L],
 *   wo[L], rms_ffn[L], w1[L], w2[L], w3[L], rms_final, freq_cis_real, freq_cis_imag, [wcls]
 * version 1: a 256-byte header (uint32 magic "ak42", int32 version, the 7 ints, uint8
 *   shared_classifier, zero padding); then float32 rms_att[L], rms_ffn[L], rms_final,
 *   token_embedding, wq[L], wk[L], wv[L], wo[L], w1[L], w2[L], w3[L], [wcls]
 * version 2 (Q8_0): the same header plus int32 group_size after shared_classifier; float32
 *   rms_att[L], rms_ffn[L], rms_final; then each matrix as int8 q[n] followed by float32
 *   scale[n / group_size] (x = q * scale per group), one layer after another: token_embedding,
 *   wq[L], wk[L], wv[L], wo[L], w1[L], w2[L], w3[L], [wcls]
 * </pre>
 *
 * Matrices are PyTorch Linear weights, [out][in] row-major. Queries and keys rotate adjacent pairs
 * (run.c), which is GGUF's layout for Llama, so no permutation is needed on the way to GGUF.
 * Tensors are handed out under llama.cpp's names with float32 rows.
 *
 * <p>Version 2 to GGUF Q8_0: llama2.c's groups run over the flattened tensor, GGUF's Q8_0 blocks
 * (32 elements, fp16 scale) over each row. When 32 divides both the group size and the row
 * length, every GGUF block lies inside one llama2.c group, so the int8 codes carry over unchanged
 * and only the scale is rounded to fp16 (a relative change of at most 2^-11 per block): near
 * lossless ({@link Tensor#copyAsQ8_0}). Otherwise (groups smaller than 32, or rows that are not a multiple of 32, such as
 * stories260K's ffn_down with rows of 172) the tensor has to be requantized from its float32 rows,
 * or kept in a float type when its rows are not a multiple of 32.
 */
public final class Llama2cCheckpoint implements AutoCloseable {
    public static final int MAGIC = 0x616b3432; // "ak42"
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The hyper-parameters in the header. */
    public record Config(int dim, int hiddenDim, int layers, int heads, int kvHeads, int vocabSize, int seqLen,
                         boolean sharedClassifier) {
        public int headDim() {
            return dim / heads;
        }

        public int kvDim() {
            return kvHeads * headDim();
        }
    }

    /**
     * One tensor: its llama.cpp name, ggml shape (row length first) and where its data is. For
     * Q8 tensors {@code scales} holds one float per {@code groupSize} elements.
     */
    public record Tensor(String name, long[] shape, MemorySegment values, MemorySegment scales, int groupSize) {
        public boolean quantized() {
            return scales != null;
        }

        public long elementCount() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }

        /**
         * Whether this Q8 tensor maps onto GGUF Q8_0 code for code: 32 divides both the group size
         * and the row length, so every 32-element GGUF block lies inside one llama2.c group.
         */
        public boolean copiesAsQ8_0() {
            return scales != null && groupSize % GgmlType.Q8_0.blockSize == 0 && shape[0] % GgmlType.Q8_0.blockSize == 0;
        }

        /**
         * Writes the tensor as GGUF Q8_0 blocks ({@code GgmlType.Q8_0.byteSize(elementCount())} bytes
         * at the start of dst), keeping llama2.c's int8 codes: only each scale changes, rounded to
         * fp16, so an element moves by at most |q| * |scale - fp16(scale)| (a relative 2^-11 of the
         * group's largest magnitude). With llama2.c's group size 32 the Q8_0 codec, requantizing the
         * float rows, gives these same bytes (every group's largest code is 127); with larger groups,
         * 32-element blocks whose largest code is below 127 would get new codes, while copying keeps
         * them.
         *
         * @throws IllegalStateException unless {@link #copiesAsQ8_0()}
         */
        public void copyAsQ8_0(MemorySegment dst) {
            if (!copiesAsQ8_0()) {
                throw new IllegalStateException(name + ": group size " + groupSize + " and row length " + shape[0]
                        + " do not both split into 32-element Q8_0 blocks");
            }
            int blockSize = GgmlType.Q8_0.blockSize;
            long blocks = elementCount() / blockSize;
            if (dst.byteSize() < GgmlType.Q8_0.byteSize(elementCount())) {
                throw new IllegalArgumentException(name + ": destination of " + dst.byteSize() + " bytes, "
                        + GgmlType.Q8_0.byteSize(elementCount()) + " needed");
            }
            for (long b = 0; b < blocks; b++) {
                long element = b * blockSize;
                long block = b * GgmlType.Q8_0.bytesPerBlock;
                LittleEndian.setFp16(dst, block, scales.getAtIndex(F32, element / groupSize));
                MemorySegment.copy(values, element, dst, block + 2, blockSize);
            }
        }

        /** Rows {@code first .. first+count)} as float32 into dst. */
        public void readRows(long first, int count, float[] dst) {
            long rowLength = shape[0];
            long start = first * rowLength;
            int n = Math.toIntExact(count * rowLength);
            if (scales == null) {
                MemorySegment.copy(values, F32, start * 4, dst, 0, n);
                return;
            }
            for (int i = 0; i < n; i++) {
                long e = start + i;
                float scale = scales.getAtIndex(F32, e / groupSize);
                dst[i] = values.get(ValueLayout.JAVA_BYTE, e) * scale;
            }
        }
    }

    private final Path path;
    private final Arena arena;
    private final int version;
    private final int groupSize;
    private final Config config;
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();

    private Llama2cCheckpoint(Path path, Arena arena, MemorySegment file) {
        this.path = path;
        this.arena = arena;
        if (file.byteSize() < 28) {
            throw error("file of " + file.byteSize() + " bytes is too short for a llama2.c header");
        }
        int first = file.get(I32, 0);
        long offset;
        int[] h = new int[7];
        boolean shared;
        if (first == MAGIC) {
            if (file.byteSize() < 256) {
                throw error("truncated header");
            }
            version = file.get(I32, 4);
            if (version != 1 && version != 2) {
                throw error("llama2.c export version " + version + " is not supported (1 and 2 are)");
            }
            for (int i = 0; i < 7; i++) {
                h[i] = file.get(I32, 8 + 4L * i);
            }
            shared = file.get(ValueLayout.JAVA_BYTE, 36) != 0;
            groupSize = version == 2 ? file.get(I32, 37) : 0;
            if (version == 2 && (groupSize <= 0 || groupSize > (1 << 20))) {
                throw error("implausible group size " + groupSize);
            }
            offset = 256;
        } else {
            version = 0;
            groupSize = 0;
            for (int i = 0; i < 7; i++) {
                h[i] = file.get(I32, 4L * i);
            }
            shared = h[5] > 0;
            h[5] = Math.abs(h[5]);
            offset = 28;
        }
        config = new Config(h[0], h[1], h[2], h[3], h[4], h[5], h[6], shared);
        validate(config);
        Layout layout = new Layout(file, offset);
        switch (version) {
            case 0 -> readLegacy(layout);
            case 1 -> readVersion1(layout);
            default -> readVersion2(layout);
        }
        if (layout.offset != file.byteSize()) {
            throw error("expected " + layout.offset + " bytes for this configuration, the file has " + file.byteSize());
        }
    }

    private void validate(Config c) {
        if (c.dim <= 0 || c.hiddenDim <= 0 || c.layers <= 0 || c.heads <= 0 || c.kvHeads <= 0 || c.vocabSize <= 0
                || c.seqLen <= 0 || c.dim > (1 << 16) || c.hiddenDim > (1 << 18) || c.layers > 1024 || c.vocabSize > (1 << 22)
                || c.seqLen > (1 << 22) || c.dim % c.heads != 0 || c.heads % c.kvHeads != 0) {
            throw error("implausible header " + c + " (not a llama2.c checkpoint?)");
        }
    }

    /** Walks the file, checking every tensor fits before slicing it. */
    private final class Layout {
        final MemorySegment file;
        long offset;

        Layout(MemorySegment file, long offset) {
            this.file = file;
            this.offset = offset;
        }

        MemorySegment take(long bytes, String what) {
            if (bytes < 0 || offset + bytes > file.byteSize()) {
                throw error("truncated: " + what + " needs " + bytes + " bytes at offset " + offset + ", the file has "
                        + file.byteSize());
            }
            MemorySegment s = file.asSlice(offset, bytes);
            offset += bytes;
            return s;
        }

        void floats(String name, long... shape) {
            long n = count(shape);
            tensors.put(name, new Tensor(name, shape, take(4 * n, name), null, 0));
        }

        void skipFloats(long n, String what) {
            take(4 * n, what);
        }

        void q8(String name, long... shape) {
            long n = count(shape);
            if (n % groupSize != 0) { // groups run over the flattened tensor, across rows
                throw error(name + ": " + n + " elements are not a whole number of groups of " + groupSize);
            }
            MemorySegment q = take(n, name);
            MemorySegment s = take(4 * (n / groupSize), name + " scales");
            tensors.put(name, new Tensor(name, shape, q, s, groupSize));
        }
    }

    private static long count(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    private void perLayer(String suffix, java.util.function.BiConsumer<String, long[]> reader, long... shape) {
        for (int l = 0; l < config.layers; l++) {
            reader.accept("blk." + l + "." + suffix, shape);
        }
    }

    private void readLegacy(Layout in) {
        Config c = config;
        in.floats("token_embd.weight", c.dim, c.vocabSize);
        perLayer("attn_norm.weight", in::floats, c.dim);
        readMatrices(in::floats);
        perLayer("ffn_norm.weight", in::floats, c.dim);
        readFfn(in::floats);
        in.floats("output_norm.weight", c.dim);
        in.skipFloats(2L * c.seqLen * c.headDim() / 2, "freq_cis");
        if (!c.sharedClassifier) {
            in.floats("output.weight", c.dim, c.vocabSize);
        }
    }

    private void readVersion1(Layout in) {
        readNorms(in);
        in.floats("token_embd.weight", config.dim, config.vocabSize);
        readMatrices(in::floats);
        readFfn(in::floats);
        if (!config.sharedClassifier) {
            in.floats("output.weight", config.dim, config.vocabSize);
        }
    }

    private void readVersion2(Layout in) {
        readNorms(in);
        in.q8("token_embd.weight", config.dim, config.vocabSize);
        readMatrices(in::q8);
        readFfn(in::q8);
        if (!config.sharedClassifier) {
            in.q8("output.weight", config.dim, config.vocabSize);
        }
    }

    private void readNorms(Layout in) {
        perLayer("attn_norm.weight", in::floats, config.dim);
        perLayer("ffn_norm.weight", in::floats, config.dim);
        in.floats("output_norm.weight", config.dim);
    }

    private void readMatrices(java.util.function.BiConsumer<String, long[]> reader) {
        Config c = config;
        perLayer("attn_q.weight", reader, c.dim, c.dim);
        perLayer("attn_k.weight", reader, c.dim, c.kvDim());
        perLayer("attn_v.weight", reader, c.dim, c.kvDim());
        perLayer("attn_output.weight", reader, c.dim, c.dim);
    }

    private void readFfn(java.util.function.BiConsumer<String, long[]> reader) {
        Config c = config;
        perLayer("ffn_gate.weight", reader, c.dim, c.hiddenDim);
        perLayer("ffn_down.weight", reader, c.hiddenDim, c.dim);
        perLayer("ffn_up.weight", reader, c.dim, c.hiddenDim);
    }

    private Llama2cException error(String what) {
        return new Llama2cException(path + ": " + what);
    }

    /** Maps and parses a checkpoint. */
    public static Llama2cCheckpoint open(Path path) {
        return MappedFile.open(path, (arena, file) -> new Llama2cCheckpoint(path, arena, file), Llama2cException::new);
    }

    /** Parses bytes already in memory (tests: fuzzing without a file per case); takes over the arena. */
    static Llama2cCheckpoint parse(Path name, Arena arena, MemorySegment bytes) {
        try {
            return new Llama2cCheckpoint(name, arena, bytes);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    /** 0 (legacy float32), 1 (float32) or 2 (Q8_0). */
    public int version() {
        return version;
    }

    /** Elements per scale in version 2, else 0. */
    public int groupSize() {
        return groupSize;
    }

    public Config config() {
        return config;
    }

    /** Tensors under llama.cpp's names, in file order. */
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
