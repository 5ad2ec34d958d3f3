package io.panllm.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.panllm.tensor.GgmlType;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile and damaged GGUF files: each must either parse or fail with a {@link GgufException};
 * never another exception, an OutOfMemoryError or a hang. The case count is raised with
 * -Dpanllm.fuzz.cases=N.
 */
class GgufFuzzTest {
    static final int CASES = Integer.getInteger("panllm.fuzz.cases", 3000);

    /** A small but complete file: every metadata type, nested arrays, a few tensors. */
    static byte[] seedFile(Path dir) throws IOException {
        GgufWriter w = new GgufWriter()
                .putString("general.architecture", "llama")
                .putUInt32("llama.block_count", 2)
                .putFloat32("llama.attention.layer_norm_rms_epsilon", 1e-5f)
                .putBool("tokenizer.ggml.add_bos_token", true)
                .put("u8", new GgufValue(GgufValueType.UINT8, (byte) 7))
                .put("i64", new GgufValue(GgufValueType.INT64, -3L))
                .put("f64", new GgufValue(GgufValueType.FLOAT64, 2.5))
                .put("tokens", GgufValue.ofArray(GgufArray.ofStrings(java.util.List.of("<s>", "a", "b", "\u2581c"))))
                .put("scores", GgufValue.ofArray(GgufArray.ofFloats(new float[] {0f, -1f, -2f, -3f})))
                .put("nested", GgufValue.ofArray(new GgufArray(GgufValueType.ARRAY, java.util.List.of(GgufArray.ofInt32s(new int[] {1, 2})))));
        w.addTensor("a", GgmlType.F32, new long[] {4, 2}, arena -> arena.allocate(32));
        w.addTensor("b", GgmlType.Q8_0, new long[] {32}, arena -> arena.allocate(34));
        w.addTensor("c", GgmlType.F16, new long[] {3}, arena -> arena.allocate(6));
        Path p = dir.resolve("seed.gguf");
        w.write(p, null);
        return Files.readAllBytes(p);
    }

    private static void mustParseOrFailCleanly(byte[] bytes, String what) {
        try (GgufFile f = GgufFile.fromBytes(bytes, what)) {
            for (GgufTensorInfo t : f.tensors()) {
                MemorySegment data = f.tensorData(t);
                if (data.byteSize() > 0) {
                    data.get(ValueLayout.JAVA_BYTE, data.byteSize() - 1);
                }
            }
            f.metadata().keys().forEach(k -> f.metadata().get(k).toString());
        } catch (GgufException expected) {
            assertThat(expected.getMessage()).isNotBlank();
        } catch (Throwable t) {
            fail(what + ": " + t, t);
        }
    }

    @Test
    void mutatedFilesParseOrFailCleanly(@TempDir Path dir) throws IOException {
        byte[] seed = seedFile(dir);
        byte[] real = Files.readAllBytes(TestData.file("gguf/llama-2-tiny-random.gguf"));
        SplittableRandom random = new SplittableRandom(Long.getLong("panllm.fuzz.seed", 20261123L));
        for (int i = 0; i < CASES; i++) {
            boolean useReal = i % 20 == 0;
            byte[] base = useReal ? real : seed;
            byte[] b = base.clone();
            int mutations = 1 + random.nextInt(4);
            // On the real file, mutate only the first bytes: header and the start of the vocab.
            int span = useReal ? 4096 : b.length;
            for (int m = 0; m < mutations; m++) {
                int at = random.nextInt(span);
                switch (random.nextInt(4)) {
                    case 0 -> b[at] ^= (byte) (1 << random.nextInt(8));
                    case 1 -> b[at] = (byte) random.nextInt(256);
                    case 2 -> { // a huge little-endian u64 where a length or count might be
                        long huge = random.nextBoolean() ? Long.MIN_VALUE : (1L << random.nextInt(62));
                        for (int k = 0; k < 8 && at + k < b.length; k++) {
                            b[at + k] = (byte) (huge >>> (8 * k));
                        }
                    }
                    default -> b = java.util.Arrays.copyOf(b, random.nextInt(b.length + 1)); // truncate
                }
                span = Math.min(span, b.length);
                if (span == 0) {
                    break;
                }
            }
            mustParseOrFailCleanly(b, "case " + i);
        }
    }

    @Test
    void everyTruncationOfTheSeedFailsCleanly(@TempDir Path dir) throws IOException {
        byte[] seed = seedFile(dir);
        long end; // the last byte of tensor data; the zero padding after it may be cut
        try (GgufFile f = GgufFile.fromBytes(seed, "seed")) {
            GgufTensorInfo last = f.tensors().getLast();
            end = f.dataOffset() + last.offset() + last.byteSize();
        }
        for (int len = 0; len < end; len++) {
            byte[] b = java.util.Arrays.copyOf(seed, len);
            assertThatThrownBy(() -> GgufFile.fromBytes(b, "truncated").close())
                    .as("length %d", len).isInstanceOf(GgufException.class);
        }
    }

    private static byte[] header(int version, long tensors, long kvs) {
        return ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(GgufFile.MAGIC).putInt(version).putLong(tensors).putLong(kvs).array();
    }

    @Test
    void namedHostileInputs() {
        assertThatThrownBy(() -> GgufFile.fromBytes("GGML....".getBytes(), "x.gguf"))
                .isInstanceOf(GgufException.class).hasMessageContaining("not a GGUF file");
        assertThatThrownBy(() -> GgufFile.fromBytes(header(4, 0, 0), "x.gguf"))
                .isInstanceOf(GgufException.class).hasMessageContaining("version 4");
        assertThatThrownBy(() -> GgufFile.fromBytes(header(3, Long.MAX_VALUE, 0), "x.gguf"))
                .isInstanceOf(GgufException.class).hasMessageContaining("tensor count");
        assertThatThrownBy(() -> GgufFile.fromBytes(header(3, 0, -1L), "x.gguf"))
                .isInstanceOf(GgufException.class).hasMessageContaining("metadata count");
        // One key whose value claims to be a 2^63-element array.
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN)
                .put(header(3, 0, 1)).putLong(1).put((byte) 'k').putInt(GgufValueType.ARRAY.id())
                .putInt(GgufValueType.UINT8.id()).putLong(Long.MIN_VALUE);
        assertThatThrownBy(() -> GgufFile.fromBytes(b.array(), "x.gguf"))
                .isInstanceOf(GgufException.class).hasMessageContaining("array length").hasMessageContaining("offset");
    }

    @Test
    void unknownTensorTypeIsNamed(@TempDir Path dir) throws IOException {
        byte[] seed = seedFile(dir);
        try (GgufFile f = GgufFile.fromBytes(seed, "seed")) {
            assertThat(f.tensors()).hasSize(3);
        }
        // Patch tensor "a"'s type id (it follows the name "a" and dims 4, 2) to 999.
        int nameAt = indexOf(seed, new byte[] {1, 0, 0, 0, 0, 0, 0, 0, 'a', 2, 0, 0, 0});
        int typeAt = nameAt + 8 + 1 + 4 + 16;
        ByteBuffer.wrap(seed).order(ByteOrder.LITTLE_ENDIAN).putInt(typeAt, 999);
        assertThatThrownBy(() -> GgufFile.fromBytes(seed, "seed"))
                .isInstanceOf(GgufException.class).hasMessageContaining("unknown tensor type id 999");
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }
}
