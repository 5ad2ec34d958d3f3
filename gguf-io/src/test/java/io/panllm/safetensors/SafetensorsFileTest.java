package io.panllm.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reader against a file written by the reference implementation (safetensors 0.8.0,
 * {@code safetensors.numpy.save_file}), the writer byte for byte against it, and hostile headers.
 */
class SafetensorsFileTest {
    @TempDir
    Path dir;

    /** The reference file, copied out of the test resources. */
    static Path reference(Path dir) throws IOException {
        Path file = dir.resolve("reference.safetensors");
        try (InputStream in = SafetensorsFileTest.class.getResourceAsStream("/safetensors/reference.safetensors")) {
            Files.copy(in, file);
        }
        return file;
    }

    @Test
    void readsTheReferenceFile() throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(reference(dir))) {
            assertThat(f.dataOffset()).isEqualTo(8 + 728);
            assertThat(f.metadata()).containsExactly(Map.entry("format", "pt"),
                    Map.entry("source", "safetensors 0.8.0 numpy save_file"));
            assertThat(f.names()).containsExactly("ids", "lm_head.bias", "empty", "model.embed_tokens.weight", "scalar",
                    "counts", "model.norm.weight", "codes", "packed", "mask");

            SafetensorsTensor embed = f.tensor("model.embed_tokens.weight");
            assertThat(embed.dtype()).isEqualTo(SafetensorsDtype.F32);
            assertThat(embed.shape()).containsExactly(6, 4);
            assertThat(embed.ggmlShape()).containsExactly(4, 6);
            assertThat(embed.rows()).isEqualTo(6);
            assertThat(embed.rowLength()).isEqualTo(4);
            float[] values = embed.toFloats();
            for (int i = 0; i < 24; i++) {
                assertThat(values[i]).isEqualTo(i * 0.25f - 1.0f);
            }
            float[] row = new float[8];
            embed.readRows(4, 2, row);
            assertThat(row).containsExactly(3f, 3.25f, 3.5f, 3.75f, 4f, 4.25f, 4.5f, 4.75f);

            assertThat(f.tensor("model.norm.weight").toFloats()).containsExactly(1.0f, -2.5f, 0.125f, 65504.0f);
            assertThat(f.tensor("lm_head.bias").toFloats()).containsExactly(Float.POSITIVE_INFINITY, -1.5f);
            assertThat(f.tensor("ids").toFloats()).containsExactly(1, -2, 3);
            assertThat(f.tensor("counts").toFloats()).containsExactly(7, -8);
            assertThat(f.tensor("codes").toFloats()).containsExactly(0, 127, -128, 5, 6);
            assertThat(f.tensor("packed").toFloats()).containsExactly(255, 0, 16);
            assertThat(f.tensor("mask").toFloats()).containsExactly(1, 0, 1);
            SafetensorsTensor scalar = f.tensor("scalar");
            assertThat(scalar.shape()).isEmpty();
            assertThat(scalar.elementCount()).isEqualTo(1);
            assertThat(scalar.toFloats()).containsExactly(3.5f);
            SafetensorsTensor empty = f.tensor("empty");
            assertThat(empty.elementCount()).isZero();
            assertThat(empty.rows()).isZero();
            assertThat(empty.data().byteSize()).isZero();
            assertThat(f.tensor("absent")).isNull();
        }
    }

    @Test
    void fp8Values() throws IOException {
        byte[] e4m3 = {0x38, (byte) 0xB8, 0x7E, 0x01, 0x7F, 0x00, 0x08, (byte) 0xFF};
        byte[] e5m2 = {0x3C, (byte) 0xBC, 0x7B, 0x7C, 0x01, 0x7F};
        Path file = dir.resolve("fp8.safetensors");
        new SafetensorsWriter()
                .add("a", SafetensorsDtype.F8_E4M3, new long[] {8}, SafetensorsWriter.bytes(e4m3))
                .add("b", SafetensorsDtype.F8_E5M2, new long[] {6}, SafetensorsWriter.bytes(e5m2))
                .write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.tensor("a").toFloats()).containsExactly(1f, -1f, 448f, 0x1p-9f, Float.NaN, 0f, 0x1p-6f, Float.NaN);
            assertThat(f.tensor("b").toFloats()).containsExactly(1f, -1f, 57344f, Float.POSITIVE_INFINITY, 0x1p-16f, Float.NaN);
        }
    }

    @Test
    void slicesDieWithTheFile() throws IOException {
        SafetensorsFile f = SafetensorsFile.open(reference(dir));
        SafetensorsTensor t = f.tensor("counts");
        f.close();
        f.close(); // idempotent
        assertThatThrownBy(t::toFloats).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void writerReproducesTheReferenceFileByteForByte() throws IOException {
        Path ref = reference(dir);
        Path copy = dir.resolve("copy.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(ref)) {
            SafetensorsWriter w = new SafetensorsWriter().putMetadata(f.metadata());
            java.util.List<SafetensorsTensor> shuffled = new java.util.ArrayList<>(f.tensors());
            java.util.Collections.shuffle(shuffled, new java.util.Random(3)); // the writer orders as the reference does
            shuffled.forEach(w::add);
            w.write(copy);
        }
        assertThat(Files.readAllBytes(copy)).isEqualTo(Files.readAllBytes(ref));
    }

    @Test
    void writeThenReadRoundTrip() throws IOException {
        SplittableRandom random = new SplittableRandom(7);
        float[] big = new float[3 * 1000];
        for (int i = 0; i < big.length; i++) {
            big[i] = (float) random.nextGaussian();
        }
        byte[] bytes = new byte[101];
        random.nextBytes(bytes);
        Path file = dir.resolve("out.safetensors");
        new SafetensorsWriter()
                .putMetadata("format", "pt")
                .putMetadata("\u00e9t\u00e9 \"quoted\"", "line\nbreak")
                .add("odd.bytes", SafetensorsDtype.U8, new long[] {101}, SafetensorsWriter.bytes(bytes))
                .add("w", SafetensorsDtype.F32, new long[] {3, 1000}, SafetensorsWriter.floats(big))
                .write(file);
        long headerLength = ByteBuffer.wrap(Files.readAllBytes(file), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat((8 + headerLength) % 8).isZero();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.metadata()).containsExactly(Map.entry("format", "pt"),
                    Map.entry("\u00e9t\u00e9 \"quoted\"", "line\nbreak"));
            assertThat(f.names()).containsExactly("w", "odd.bytes");
            assertThat(f.tensor("w").toFloats()).isEqualTo(big);
            assertThat(f.tensor("odd.bytes").toByteArray()).isEqualTo(bytes);
            // wider dtypes first in the data area, which starts 8-aligned: the float32 tensor is aligned in the file
            assertThat(f.dataOffset() % 8).isZero();
            assertThat(f.tensor("w").data().address()).isLessThan(f.tensor("odd.bytes").data().address());
            assertThat(f.tensor("w").data().address() % 4).isZero();
        }
    }

    @Test
    void failedWriteLeavesTargetAndNoTemporaryFile() throws IOException {
        Path file = dir.resolve("model.safetensors");
        Files.writeString(file, "previous content");
        SafetensorsWriter w = new SafetensorsWriter()
                .add("a", SafetensorsDtype.F32, new long[] {2}, SafetensorsWriter.floats(new float[] {1, 2}))
                .add("b", SafetensorsDtype.F32, new long[] {4}, SafetensorsWriter.floats(new float[] {1, 2, 3}));
        assertThatThrownBy(() -> w.write(file)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("'b'").hasMessageContaining("produced 12 bytes, expected 16");
        assertThat(Files.readString(file)).isEqualTo("previous content");
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files).containsExactly(file);
        }
    }

    @Test
    void writerRejectsBadDeclarations() {
        SafetensorsWriter w = new SafetensorsWriter().add("a", SafetensorsDtype.I8, new long[] {1}, SafetensorsWriter.bytes(new byte[1]));
        assertThatThrownBy(() -> w.add("a", SafetensorsDtype.I8, new long[] {1}, null)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("duplicate");
        assertThatThrownBy(() -> w.add("__metadata__", SafetensorsDtype.I8, new long[] {1}, null))
                .isInstanceOf(SafetensorsException.class);
        assertThatThrownBy(() -> w.add("n", SafetensorsDtype.I8, new long[] {-1}, null)).isInstanceOf(SafetensorsException.class);
        assertThatThrownBy(() -> w.add("o", SafetensorsDtype.F64, new long[] {1L << 40, 1L << 30}, null))
                .isInstanceOf(SafetensorsException.class).hasMessageContaining("'o'");
    }

    // ---------------------------------------------------------------- hostile files

    /** A file with this header text and {@code dataBytes} zero bytes of data. */
    Path file(String header, int dataBytes) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json);
        Path file = Files.createTempFile(dir, "hostile", ".safetensors");
        Files.write(file, b.array());
        return file;
    }

    void assertRejected(Path file, String... messageParts) {
        assertThatThrownBy(() -> SafetensorsFile.open(file).close())
                .isInstanceOf(SafetensorsException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContainingAll(messageParts);
    }

    static String entry(String name, String dtype, String shape, String offsets) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }

    @Test
    void rejectsShortAndLyingLengths() throws IOException {
        Path empty = dir.resolve("empty");
        Files.write(empty, new byte[0]);
        assertRejected(empty, "too short");
        Path seven = dir.resolve("seven");
        Files.write(seven, new byte[7]);
        assertRejected(seven, "too short");

        for (long length : new long[] {Long.MIN_VALUE, -1L, Long.MAX_VALUE, 1L << 40, 100_000_001L, 1000}) {
            Path f = dir.resolve("len" + Long.toUnsignedString(length));
            Files.write(f, ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN).putLong(length).array());
            assertRejected(f, "header length " + Long.toUnsignedString(length), "at offset 0");
        }
        assertRejected(dir.resolve("missing.safetensors"), "no such file");
        assertThatThrownBy(() -> SafetensorsFile.open(dir).close()).isInstanceOf(SafetensorsException.class);
    }

    @Test
    void rejectsBadJson() throws IOException {
        assertRejected(file("{\"a\":", 0), "malformed JSON", "at offset");
        assertRejected(file("[1,2]", 0), "not a JSON object");
        assertRejected(file("{} trailing", 0), "malformed JSON");
        assertRejected(file("{\"a\":1,\"a\":2}", 0), "malformed JSON", "Duplicate");
        assertRejected(file("{\"x\":" + "[".repeat(5000) + "]".repeat(5000) + "}", 0), "malformed JSON");
        byte[] invalidUtf8 = {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'};
        Path bad = dir.resolve("utf8");
        Files.write(bad, ByteBuffer.allocate(8 + invalidUtf8.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(invalidUtf8.length).put(invalidUtf8).array());
        assertRejected(bad, "malformed JSON");
    }

    @Test
    void rejectsBadEntries() throws IOException {
        assertRejected(file("{" + entry("t", "Q4_0", "[2]", "[0,8]") + "}", 8), "'t'", "unknown dtype 'Q4_0'");
        assertRejected(file("{" + entry("t", "F32", "[2]", "[0,8]").replace("\"dtype\":\"F32\",", "") + "}", 8), "dtype");
        assertRejected(file("{" + entry("t", "F32", "[-2]", "[0,8]") + "}", 8), "shape", "not an integer");
        assertRejected(file("{" + entry("t", "F32", "[2.5]", "[0,8]") + "}", 8), "shape");
        assertRejected(file("{" + entry("t", "F32", "[99999999999999999999]", "[0,8]") + "}", 8), "shape");
        assertRejected(file("{" + entry("t", "F32", "\"2\"", "[0,8]") + "}", 8), "shape");
        assertRejected(file("{" + entry("t", "F32", "[4294967296,4294967296]", "[0,8]") + "}", 8), "overflows");
        assertRejected(file("{" + entry("t", "F32", "[2]", "[0]") + "}", 8), "data_offsets", "expected 2");
        assertRejected(file("{" + entry("t", "F32", "[2]", "[0,8]") + "}", 7), "outside the data area of 7 bytes");
        assertRejected(file("{" + entry("t", "F32", "[2]", "[8,0]") + "}", 8), "outside");
        assertRejected(file("{" + entry("t", "F32", "[2]", "[0,12]") + "}", 12), "hold 12 bytes", "needs 8");
        assertRejected(file("{" + entry("t", "F32", "[2]", "[0,8]") + "," + entry("u", "F16", "[2]", "[6,10]") + "}", 10),
                "'t'", "'u'", "overlap");
        assertRejected(file("{\"t\":5}", 0), "'t'", "expected an object");
        assertRejected(file("{\"__metadata__\":{\"format\":1}}", 0), "__metadata__", "'format'", "string");
        assertRejected(file("{\"__metadata__\":[\"x\"]}", 0), "__metadata__");
    }

    @Test
    void acceptsGapsAndZeroSizedTensors() throws IOException {
        Path ok = file("{" + entry("t", "F32", "[1]", "[4,8]") + "," + entry("z", "F32", "[0]", "[4,4]") + "}    ", 8);
        try (SafetensorsFile f = SafetensorsFile.open(ok)) {
            assertThat(f.tensor("t").data().byteSize()).isEqualTo(4);
            assertThat(f.tensor("z").data().byteSize()).isZero();
            assertThat(f.metadata()).isEmpty();
        }
    }

    /** Random byte mutations of the reference file and of a written one: parse, or a SafetensorsException. */
    @Test
    void fuzzMutatedFiles() throws IOException {
        int cases = Integer.getInteger("panllm.fuzz.cases", 3000);
        byte[] seed = Files.readAllBytes(reference(dir));
        SplittableRandom random = new SplittableRandom(20261123);
        Path file = dir.resolve("fuzz.safetensors");
        int parsed = 0;
        for (int c = 0; c < cases; c++) {
            byte[] mutated = mutate(seed, random);
            // every 50th case through a real mapped file, the others parsed in memory (mapping costs ms)
            boolean mapped = c % 50 == 0;
            if (mapped) {
                Files.write(file, mutated);
            }
            try (SafetensorsFile f = mapped ? SafetensorsFile.open(file)
                    : SafetensorsFile.parse(file, java.lang.foreign.Arena.ofConfined(), MemorySegment.ofArray(mutated))) {
                for (SafetensorsTensor t : f.tensors()) {
                    if (t.elementCount() < 1_000_000) {
                        t.toFloats();
                    }
                    MemorySegment data = t.data();
                    assertThat(data.byteSize()).isEqualTo(t.elementCount() * t.dtype().byteSize);
                }
                parsed++;
            } catch (SafetensorsException expected) {
                assertThat(expected.getMessage()).contains(file.toString());
            }
        }
        assertThat(parsed).as("some mutations leave a valid file").isPositive();
        assertThat(parsed).as("some mutations break the file").isLessThan(cases);
    }

    static byte[] mutate(byte[] seed, SplittableRandom random) {
        byte[] m = seed.clone();
        switch (random.nextInt(4)) {
            case 0 -> { // a few random bytes anywhere, mostly in the header
                int n = 1 + random.nextInt(4);
                for (int i = 0; i < n; i++) {
                    int at = random.nextInt(10) < 8 ? random.nextInt(Math.min(m.length, 740)) : random.nextInt(m.length);
                    m[at] = (byte) random.nextInt(256);
                }
            }
            case 1 -> { // a digit changed: offsets and shapes that lie
                int at = 8 + random.nextInt(728);
                if (Character.isDigit(m[at])) {
                    m[at] = (byte) ('0' + random.nextInt(10));
                } else {
                    m[at] = (byte) "0123456789-.e,[]{}\"".charAt(random.nextInt(19));
                }
            }
            case 2 -> { // truncated
                return java.util.Arrays.copyOf(m, random.nextInt(m.length));
            }
            default -> { // the length field itself
                ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).putLong(0, random.nextLong(-5, 800) + (random.nextBoolean() ? 0 : 1L << random.nextInt(64)));
            }
        }
        return m;
    }
}
