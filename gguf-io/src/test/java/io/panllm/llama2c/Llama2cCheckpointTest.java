package io.panllm.llama2c;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.panllm.tensor.GgmlType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real stories260K checkpoint and tokenizer (llama2.c version 2, Q8 in groups of 32), and
 * hostile variants of both. Expected values were read from the files with a few lines of numpy.
 */
class Llama2cCheckpointTest {
    static final Path DATA = Path.of(System.getProperty("panllm.data", "../../shared/data"), "llama2c");
    static final Path CHECKPOINT = DATA.resolve("stories260K_q80.bin");
    static final Path TOKENIZER = DATA.resolve("tok512.bin");

    @TempDir
    Path dir;

    @Test
    void stories260kHeaderAndTensors() {
        try (Llama2cCheckpoint c = Llama2cCheckpoint.open(CHECKPOINT)) {
            assertThat(c.version()).isEqualTo(2);
            assertThat(c.groupSize()).isEqualTo(32);
            assertThat(c.config()).isEqualTo(new Llama2cCheckpoint.Config(64, 172, 5, 8, 4, 512, 512, true));
            assertThat(c.config().headDim()).isEqualTo(8);
            assertThat(c.config().kvDim()).isEqualTo(32);
            // 11 norms + token embedding + 7 matrices x 5 layers; the classifier is shared
            assertThat(c.tensors()).hasSize(47).doesNotContainKey("output.weight");
            assertThat(c.tensors().keySet()).startsWith("blk.0.attn_norm.weight", "blk.1.attn_norm.weight");
            assertThat(c.tensors().get("blk.4.ffn_down.weight").shape()).containsExactly(172, 64);
            assertThat(c.tensors().get("blk.4.ffn_gate.weight").shape()).containsExactly(64, 172);
            assertThat(c.tensors().get("blk.0.attn_k.weight").shape()).containsExactly(64, 32);

            Llama2cCheckpoint.Tensor norm = c.tensors().get("blk.0.attn_norm.weight");
            assertThat(norm.quantized()).isFalse();
            float[] values = new float[64];
            norm.readRows(0, 1, values);
            assertThat(Arrays.copyOf(values, 4)).containsExactly(0.97224295f, 0.67549336f, 0.82031953f, 0.87158966f);
            c.tensors().get("output_norm.weight").readRows(0, 1, values);
            assertThat(Arrays.copyOf(values, 4)).containsExactly(2.458309f, 1.3673227f, 1.7504382f, 1.1078318f);

            Llama2cCheckpoint.Tensor embedding = c.tensors().get("token_embd.weight");
            assertThat(embedding.quantized()).isTrue();
            assertThat(embedding.groupSize()).isEqualTo(32);
            assertThat(embedding.values().byteSize()).isEqualTo(512 * 64);
            assertThat(embedding.scales().byteSize()).isEqualTo(4 * 512 * 64 / 32);
            assertThat(embedding.values().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0)).isEqualTo((byte) -42);
            embedding.readRows(0, 1, values);
            assertThat(Arrays.copyOf(values, 4)).containsExactly(-0.29129288f, 0.56177914f, 0.17338862f, 0.3398417f);
            // every quantized value is a code times its group's scale, codes within [-127, 127]
            for (Llama2cCheckpoint.Tensor t : c.tensors().values()) {
                if (t.quantized()) {
                    for (long i = 0; i < t.values().byteSize(); i++) {
                        assertThat(t.values().get(java.lang.foreign.ValueLayout.JAVA_BYTE, i)).isNotEqualTo((byte) -128);
                    }
                }
            }
        }
    }

    /**
     * Version 2 Q8 to GGUF Q8_0 by copying codes: every element within |q| * |scale - fp16(scale)|
     * of llama2.c's own value; with groups of 32 the same bytes as requantizing the float rows.
     */
    @Test
    void q8CopiesIntoGgufQ8_0() {
        try (Llama2cCheckpoint c = Llama2cCheckpoint.open(CHECKPOINT); Arena arena = Arena.ofConfined()) {
            assertThat(c.tensors().get("blk.0.ffn_down.weight").copiesAsQ8_0()).isFalse(); // rows of 172
            assertThat(c.tensors().get("blk.0.attn_norm.weight").copiesAsQ8_0()).isFalse(); // float32
            assertThatThrownBy(() -> c.tensors().get("blk.0.ffn_down.weight").copyAsQ8_0(arena.allocate(1 << 16)))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("172");
            int copied = 0;
            for (Llama2cCheckpoint.Tensor t : c.tensors().values()) {
                if (!t.copiesAsQ8_0()) {
                    continue;
                }
                int n = Math.toIntExact(t.elementCount());
                float[] original = new float[n];
                t.readRows(0, Math.toIntExact(n / t.shape()[0]), original);
                MemorySegment q8 = arena.allocate(GgmlType.Q8_0.byteSize(n));
                t.copyAsQ8_0(q8);
                float[] copy = GgmlType.Q8_0.codec().dequantize(q8, n);
                for (int i = 0; i < n; i++) {
                    float scale = t.scales().getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, i / t.groupSize());
                    float code = t.values().get(java.lang.foreign.ValueLayout.JAVA_BYTE, i);
                    float bound = Math.abs(code) * Math.abs(scale - Float.float16ToFloat(Float.floatToFloat16(scale)));
                    float roundingSlack = 2 * Math.ulp(Math.abs(original[i])); // both products are rounded floats
                    assertThat(Math.abs(copy[i] - original[i])).isLessThanOrEqualTo(bound + roundingSlack);
                }
                MemorySegment requantized = arena.allocate(GgmlType.Q8_0.byteSize(n));
                GgmlType.Q8_0.codec().quantize(original, 0, n, requantized);
                assertThat(requantized.mismatch(q8)).as(t.name()).isEqualTo(-1L);
                copied++;
            }
            assertThat(copied).isEqualTo(1 + 6 * 5); // token_embd and every matrix but ffn_down
        }
    }

    @Test
    void stories260kTokenizer() {
        Llama2cTokenizer t = Llama2cTokenizer.read(TOKENIZER, 512);
        assertThat(t.size()).isEqualTo(512);
        assertThat(t.maxTokenLength()).isEqualTo(7);
        assertThat(t.piece(0)).isEqualTo("<unk>");
        assertThat(t.piece(1)).isEqualTo("\n<s>\n");
        assertThat(t.piece(2)).isEqualTo("\n</s>\n");
        assertThat(t.piece(3)).isEqualTo("<0x00>");
        assertThat(t.piece(258)).isEqualTo("<0xFF>");
        assertThat(t.piece(259)).isEqualTo(" t");
        assertThat(t.piece(260)).isEqualTo("he");
        assertThat(t.scores()[260]).isEqualTo(-1.0f);
        assertThat(t.piece(511)).isEqualTo("\u200a");
        assertThat(t.scores()[511]).isEqualTo(-252.0f);
        assertThatThrownBy(() -> Llama2cTokenizer.read(TOKENIZER, 32000)).isInstanceOf(Llama2cException.class)
                .hasMessageContaining("512 tokens").hasMessageContaining("32000");
    }

    @Test
    void hostileTokenizers() throws IOException {
        byte[] real = Files.readAllBytes(TOKENIZER);
        assertTokenizerRejected(new byte[3], "too short");
        assertTokenizerRejected(Arrays.copyOf(real, real.length - 1), "token 511");
        assertTokenizerRejected(Arrays.copyOf(real, 4 + 6), "truncated entry of token 0");
        byte[] lying = real.clone();
        ByteBuffer.wrap(lying).order(ByteOrder.LITTLE_ENDIAN).putInt(8, Integer.MAX_VALUE);
        assertTokenizerRejected(lying, "token 0 at offset 4 claims 2147483647 bytes");
        byte[] negative = real.clone();
        ByteBuffer.wrap(negative).order(ByteOrder.LITTLE_ENDIAN).putInt(0, -1);
        assertTokenizerRejected(negative, "max_token_length -1");
    }

    void assertTokenizerRejected(byte[] bytes, String message) throws IOException {
        Path file = Files.createTempFile(dir, "tok", ".bin");
        Files.write(file, bytes);
        assertThatThrownBy(() -> Llama2cTokenizer.read(file)).isInstanceOf(Llama2cException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining(message);
    }

    @Test
    void hostileCheckpoints() throws IOException {
        byte[] real = Files.readAllBytes(CHECKPOINT);
        assertRejected(new byte[0], "too short");
        assertRejected(Arrays.copyOf(real, 100), "truncated header");
        assertRejected(Arrays.copyOf(real, real.length - 1), "truncated");
        assertRejected(Arrays.copyOf(real, 4000), "truncated: token_embd.weight");
        byte[] longer = Arrays.copyOf(real, real.length + 4);
        assertRejected(longer, "expected 294816 bytes");
        assertRejected(withInt(real, 4, 3), "version 3");
        assertRejected(withInt(real, 37, 0), "group size 0");
        assertRejected(withInt(real, 37, 7), "not a whole number of groups of 7");
        assertRejected(withInt(real, 8, Integer.MAX_VALUE), "implausible header");
        assertRejected(withInt(real, 8, -64), "implausible header");
        assertRejected(withInt(real, 20, 3), "implausible header"); // 8 heads, 3 kv heads
        assertRejected(withInt(real, 16, 1000), "truncated"); // 1000 layers: runs out of file
        // a legacy (headerless) file claiming huge sizes
        byte[] legacy = ByteBuffer.allocate(28 + 64).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(65536).putInt(262144).putInt(1024).putInt(1).putInt(1).putInt(Integer.MIN_VALUE).putInt(1 << 22).array();
        assertRejected(legacy, "implausible header");
        legacy = ByteBuffer.allocate(28 + 64).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(65536).putInt(262144).putInt(1024).putInt(1).putInt(1).putInt(-(1 << 22)).putInt(1 << 22).array();
        assertRejected(legacy, "truncated");
    }

    static byte[] withInt(byte[] bytes, int offset, int value) {
        byte[] copy = bytes.clone();
        ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN).putInt(offset, value);
        return copy;
    }

    void assertRejected(byte[] bytes, String message) throws IOException {
        Path file = Files.createTempFile(dir, "ckpt", ".bin");
        Files.write(file, bytes);
        assertThatThrownBy(() -> Llama2cCheckpoint.open(file).close()).isInstanceOf(Llama2cException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining(message);
    }

    /** A small legacy (version 0) float32 file built here: layout and unshared classifier. */
    @Test
    void legacyFloatCheckpoint() throws IOException {
        int dim = 8, hidden = 12, layers = 2, heads = 2, kvHeads = 1, vocab = 5, seqLen = 4;
        int kvDim = kvHeads * dim / heads;
        long floats = (long) vocab * dim + layers * (2L * dim + 2L * dim * dim + 2L * dim * kvDim + 3L * dim * hidden)
                + dim + (long) seqLen * (dim / heads) + (long) vocab * dim;
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(28 + 4 * floats)).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(dim).putInt(hidden).putInt(layers).putInt(heads).putInt(kvHeads).putInt(-vocab).putInt(seqLen);
        for (int i = 0; i < floats; i++) {
            b.putFloat(i);
        }
        Path file = dir.resolve("legacy.bin");
        Files.write(file, b.array());
        try (Llama2cCheckpoint c = Llama2cCheckpoint.open(file)) {
            assertThat(c.version()).isZero();
            assertThat(c.config().sharedClassifier()).isFalse();
            assertThat(c.tensors()).hasSize(1 + 9 * layers + 1 + 1);
            float[] row = new float[dim];
            c.tensors().get("blk.0.attn_norm.weight").readRows(0, 1, row);
            assertThat(row[0]).isEqualTo(vocab * dim); // right after the token embedding
            c.tensors().get("output.weight").readRows(vocab - 1, 1, row);
            assertThat(row[dim - 1]).isEqualTo(floats - 1); // the classifier ends the file
        }
    }

    /** Random mutations of the real file's header area and random truncations: parse or Llama2cException. */
    @Test
    void fuzzMutatedCheckpoints() throws IOException {
        int cases = Integer.getInteger("panllm.fuzz.cases", 3000);
        byte[] real = Files.readAllBytes(CHECKPOINT);
        SplittableRandom random = new SplittableRandom(42);
        Path name = dir.resolve("fuzz.bin");
        int parsed = 0;
        for (int c = 0; c < cases; c++) {
            byte[] m;
            if (random.nextInt(5) == 0) {
                m = Arrays.copyOf(real, random.nextInt(real.length + 64));
            } else {
                m = real.clone();
                int n = 1 + random.nextInt(3);
                for (int i = 0; i < n; i++) {
                    int at = random.nextInt(10) < 8 ? random.nextInt(44) : random.nextInt(m.length);
                    m[at] = (byte) (random.nextBoolean() ? random.nextInt(256) : m[at] ^ (1 << random.nextInt(8)));
                }
            }
            try (Llama2cCheckpoint ckpt = Llama2cCheckpoint.parse(name, Arena.ofConfined(), MemorySegment.ofArray(m))) {
                float[] row = new float[Math.toIntExact(ckpt.tensors().get("token_embd.weight").shape()[0])];
                ckpt.tensors().get("token_embd.weight").readRows(0, 1, row);
                parsed++;
            } catch (Llama2cException expected) {
                assertThat(expected.getMessage()).contains(name.toString());
            }
        }
        assertThat(parsed).as("mutations of unused bytes leave a valid file").isPositive();
        assertThat(parsed).isLessThan(cases);
    }

    @Test
    void missingFile() {
        assertThatThrownBy(() -> Llama2cCheckpoint.open(dir.resolve("none.bin"))).isInstanceOf(Llama2cException.class)
                .hasMessageContaining("no such file");
        assertThatThrownBy(() -> Llama2cTokenizer.read(dir.resolve("none.bin"))).isInstanceOf(Llama2cException.class)
                .hasMessageContaining("no such file");
    }
}
