package io.panllm.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.panllm.tensor.Bnb4bit;
import io.panllm.tensor.Int8RowWise;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BnbTensorsTest {
    @TempDir
    Path dir;

    static float[] gaussian(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian() * 0.02f;
        }
        return x;
    }

    SafetensorsCheckpoint write(Consumer<SafetensorsWriter> declare) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter().putMetadata("format", "pt");
        declare.accept(w);
        Path file = dir.resolve("model-" + System.nanoTime() + ".safetensors");
        w.write(file);
        return SafetensorsCheckpoint.open(file);
    }

    interface IoConsumer {
        void accept(SafetensorsWriter w) throws IOException;
    }

    static Consumer<SafetensorsWriter> io(IoConsumer c) {
        return w -> {
            try {
                c.accept(w);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
    }

    /** A hand-made NF4 weight [2, 3] (one block): code bytes 0x0F 0x78 0x30, absmax 2; not written by add4bit. */
    @Test
    void decodesAHandBuiltNf4Weight() throws IOException {
        byte[] state = "{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"float16\", \"shape\": [2, 3]}"
                .getBytes(StandardCharsets.UTF_8);
        try (SafetensorsCheckpoint c = write(w -> w
                .add("l.weight", SafetensorsDtype.U8, new long[] {3, 1}, SafetensorsWriter.bytes(new byte[] {0x0F, 0x78, 0x30}))
                .add("l.weight.absmax", SafetensorsDtype.F32, new long[] {1}, SafetensorsWriter.floats(new float[] {2f}))
                .add("l.weight.quant_map", SafetensorsDtype.F32, new long[] {16},
                        SafetensorsWriter.floats(Bnb4bit.QuantType.NF4.table()))
                .add("l.weight.quant_state.bitsandbytes__nf4", SafetensorsDtype.U8, new long[] {state.length},
                        SafetensorsWriter.bytes(state)))) {
            assertThat(BnbTensors.kind(c, "l")).isEqualTo(BnbTensors.Kind.NF4);
            BnbTensors.Weight w = BnbTensors.weight(c, "l");
            assertThat(w.shape()).containsExactly(2, 3);
            assertThat(w.rows()).isEqualTo(2);
            assertThat(((BnbTensors.FourBit) w).computeDtype()).isEqualTo("float16");
            // codes 0, 15 | 7, 8 | 3, 0 (high nibble first); NF4 table: -1, 1, 0, 0.0796, -0.3949, -1
            float nf4Of8 = 0.07958029955625534f * 2;
            float nf4Of3 = -0.39491748809814453f * 2;
            assertThat(w.toFloats()).containsExactly(-2f, 2f, 0f, nf4Of8, nf4Of3, -2f);
            float[] second = new float[3];
            w.readRows(1, 1, second);
            assertThat(second).containsExactly(nf4Of8, nf4Of3, -2f);
        }
    }

    @Test
    void fourBitRoundTripThroughTheWriter() throws IOException {
        int rows = 5;
        int cols = 81; // odd element count, blocks straddling rows, a partial last block
        float[] x = gaussian(rows * cols, 1);
        try (SafetensorsCheckpoint c = write(io(w -> {
            BnbTensors.add4bit(w, "a", Bnb4bit.QuantType.NF4, new long[] {rows, cols}, 64, true, "bfloat16", () -> x);
            BnbTensors.add4bit(w, "b", Bnb4bit.QuantType.FP4, new long[] {rows, cols}, 128, false, "float16", () -> x);
        }))) {
            assertThat(c.names()).contains("a.weight", "a.weight.absmax", "a.weight.quant_map", "a.weight.nested_absmax",
                    "a.weight.nested_quant_map", "a.weight.quant_state.bitsandbytes__nf4", "b.weight", "b.weight.absmax",
                    "b.weight.quant_map", "b.weight.quant_state.bitsandbytes__fp4").hasSize(10);
            assertThat(c.require("a.weight").shape()).containsExactly((rows * cols + 1) / 2, 1);
            assertThat(c.require("a.weight.absmax").dtype()).isEqualTo(SafetensorsDtype.U8);
            assertThat(c.require("b.weight.absmax").dtype()).isEqualTo(SafetensorsDtype.F32);
            String json = new String(c.require("a.weight.quant_state.bitsandbytes__nf4").toByteArray(), StandardCharsets.UTF_8);
            assertThat(json).matches("\\{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"bfloat16\", \"shape\": \\[5, 81\\], "
                    + "\"nested_blocksize\": 256, \"nested_dtype\": \"float32\", \"nested_offset\": [0-9.eE-]+\\}");

            // expected: the codecs' own quantization, double quantization undone the codecs' way
            Bnb4bit.Quantized qa = Bnb4bit.quantize(Bnb4bit.QuantType.NF4, x, 0, x.length, 64);
            float[] nestedAbsmax = Bnb4bit.quantizeAbsmax(qa.absmax()).dequantize();
            float[] expectedA = Bnb4bit.dequantize(Bnb4bit.QuantType.NF4, MemorySegment.ofArray(qa.packedCodes()),
                    nestedAbsmax, 64, x.length);
            BnbTensors.Weight a = BnbTensors.weight(c, "a");
            assertThat(a.kind()).isEqualTo(BnbTensors.Kind.NF4);
            assertThat(((BnbTensors.FourBit) a).doubleQuantized()).isTrue();
            assertThat(a.toFloats()).isEqualTo(expectedA);
            BnbTensors.Weight b = BnbTensors.weight(c, "b");
            assertThat(b.kind()).isEqualTo(BnbTensors.Kind.FP4);
            assertThat(b.toFloats()).isEqualTo(Bnb4bit.quantize(Bnb4bit.QuantType.FP4, x, 0, x.length, 128).dequantize());
            for (int i = 0; i < x.length; i++) { // and close to the original
                assertThat(expectedA[i]).isCloseTo(x[i], within(0.03f));
            }
            // any row range equals the same range of the whole decode
            for (int first = 0; first < rows; first++) {
                for (int count = 1; first + count <= rows; count++) {
                    float[] part = new float[count * cols];
                    a.readRows(first, count, part);
                    assertThat(part).isEqualTo(Arrays.copyOfRange(expectedA, first * cols, (first + count) * cols));
                }
            }
            assertThatThrownBy(() -> a.readRows(4, 2, new float[2 * cols])).isInstanceOf(IndexOutOfBoundsException.class);
        }
    }

    @Test
    void int8AndPlainWeights() throws IOException {
        int rows = 4;
        int cols = 33;
        float[] x = gaussian(rows * cols, 2);
        try (SafetensorsCheckpoint c = write(io(w -> {
            BnbTensors.addInt8(w, "q", rows, cols, () -> x);
            w.add("p.weight", SafetensorsDtype.F32, new long[] {rows, cols}, SafetensorsWriter.floats(x));
        }))) {
            assertThat(c.names()).containsExactlyInAnyOrder("q.weight", "q.SCB", "q.weight_format", "p.weight");
            assertThat(c.require("q.weight_format").shape()).isEmpty();
            BnbTensors.Weight q = BnbTensors.weight(c, "q");
            assertThat(q.kind()).isEqualTo(BnbTensors.Kind.INT8);
            assertThat(q.shape()).containsExactly(rows, cols);
            float[] scb = new float[rows];
            MemorySegment codes = MemorySegment.ofArray(new byte[rows * cols]);
            Int8RowWise.quantize(x, 0, rows, cols, codes, scb);
            float[] expected = new float[rows * cols];
            Int8RowWise.dequantize(codes, scb, rows, cols, expected, 0);
            assertThat(q.toFloats()).isEqualTo(expected);
            float[] row = new float[cols];
            q.readRows(3, 1, row);
            assertThat(row).isEqualTo(Arrays.copyOfRange(expected, 3 * cols, 4 * cols));

            assertThat(BnbTensors.kind(c, "p")).isEqualTo(BnbTensors.Kind.PLAIN);
            assertThat(BnbTensors.weight(c, "p").toFloats()).isEqualTo(x);
            assertThatThrownBy(() -> BnbTensors.kind(c, "absent")).isInstanceOf(SafetensorsException.class)
                    .hasMessageContaining("'absent.weight'");
        }
    }

    /** Damaged 4-bit layouts: each names the weight and what is wrong. */
    @Test
    void inconsistentLayoutsAreTypedErrors() throws IOException {
        float[] x = gaussian(128, 3);
        assertBroken(w -> w.add("l.weight.quant_state.bitsandbytes__nf4", SafetensorsDtype.U8, new long[] {3},
                SafetensorsWriter.bytes("{x]".getBytes(StandardCharsets.UTF_8))), "not JSON");
        assertBroken(state("{\"quant_type\": \"fp4\", \"blocksize\": 64, \"dtype\": \"float16\", \"shape\": [2, 64]}"),
                "says FP4");
        assertBroken(state("{\"quant_type\": \"nf4\", \"blocksize\": 63, \"dtype\": \"float16\", \"shape\": [2, 64]}"),
                "blocksize 63");
        assertBroken(state("{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"float16\", \"shape\": [2, -64]}"),
                "shape");
        assertBroken(state("{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"float16\", \"shape\": [3, 64]}"),
                "'l.weight'", "expected 96");
        assertBroken(state("{\"quant_type\": \"nf4\", \"blocksize\": 64, \"shape\": [2, 64]}"), "'dtype'");
        assertBroken(state("{\"quant_type\": \"int4\", \"blocksize\": 64, \"dtype\": \"float16\", \"shape\": [2, 64]}"),
                "int4");
        // a custom quant map
        try (SafetensorsCheckpoint c = write(io(w -> {
            SafetensorsWriter plain = new SafetensorsWriter();
            BnbTensors.add4bit(plain, "l", Bnb4bit.QuantType.NF4, new long[] {2, 64}, 64, false, "float16", () -> x);
            Path tmp = dir.resolve("src.safetensors");
            plain.write(tmp);
            try (SafetensorsCheckpoint src = SafetensorsCheckpoint.open(tmp)) {
                for (String name : src.names()) {
                    if (name.endsWith("quant_map")) {
                        float[] map = Bnb4bit.QuantType.NF4.table();
                        map[3] = 0.5f;
                        w.add(name, SafetensorsDtype.F32, new long[] {16}, SafetensorsWriter.floats(map));
                    } else {
                        byte[] bytes = src.require(name).toByteArray();
                        w.add(name, src.require(name).dtype(), src.require(name).shape(), SafetensorsWriter.bytes(bytes));
                    }
                }
            }
        }))) {
            assertThatThrownBy(() -> BnbTensors.weight(c, "l")).isInstanceOf(SafetensorsException.class)
                    .hasMessageContaining("quant_map[3]");
        }
    }

    /** A valid 2 x 64 NF4 layout (no double quantization) with the given quant state JSON. */
    Consumer<SafetensorsWriter> state(String json) {
        byte[] state = json.getBytes(StandardCharsets.UTF_8);
        return w -> w
                .add("l.weight", SafetensorsDtype.U8, new long[] {64, 1}, SafetensorsWriter.bytes(new byte[64]))
                .add("l.weight.absmax", SafetensorsDtype.F32, new long[] {2}, SafetensorsWriter.floats(new float[] {1, 1}))
                .add("l.weight.quant_map", SafetensorsDtype.F32, new long[] {16}, SafetensorsWriter.floats(Bnb4bit.QuantType.NF4.table()))
                .add("l.weight.quant_state.bitsandbytes__nf4", SafetensorsDtype.U8, new long[] {state.length},
                        SafetensorsWriter.bytes(state));
    }

    void assertBroken(Consumer<SafetensorsWriter> declare, String... messageParts) throws IOException {
        try (SafetensorsCheckpoint c = write(declare)) {
            assertThatThrownBy(() -> BnbTensors.weight(c, "l")).isInstanceOf(SafetensorsException.class)
                    .hasMessageContaining("'l'").hasMessageContainingAll(messageParts);
        }
    }

    /**
     * Mutations of a valid double-quantized NF4 file (parsed in memory), inside its quant-state JSON
     * and the safetensors header: every case decodes or throws SafetensorsException, nothing else.
     */
    @Test
    void fuzzFourBitLayouts() throws IOException {
        int cases = Integer.getInteger("panllm.fuzz.cases", 3000);
        float[] x = gaussian(3 * 200, 4);
        Path seedFile = dir.resolve("seed.safetensors");
        SafetensorsWriter w = new SafetensorsWriter();
        BnbTensors.add4bit(w, "l", Bnb4bit.QuantType.NF4, new long[] {3, 200}, 64, true, "float16", () -> x);
        w.write(seedFile);
        byte[] seed = java.nio.file.Files.readAllBytes(seedFile);
        int json = indexOf(seed, "{\"quant_type\"".getBytes(StandardCharsets.UTF_8));
        long headerEnd = 8 + java.nio.ByteBuffer.wrap(seed, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        SplittableRandom random = new SplittableRandom(5);
        Path file = dir.resolve("fuzz.safetensors");
        int decoded = 0;
        for (int c = 0; c < cases; c++) {
            byte[] m = seed.clone();
            int n = 1 + random.nextInt(3);
            for (int i = 0; i < n; i++) {
                int at = random.nextBoolean() ? json + random.nextInt(seed.length - json) : 8 + random.nextInt((int) headerEnd - 8);
                m[at] = (byte) "0123456789-.e,[]{}\" abnf4".charAt(random.nextInt(25));
            }
            try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.of(
                    SafetensorsFile.parse(file, java.lang.foreign.Arena.ofConfined(), MemorySegment.ofArray(m)))) {
                BnbTensors.Weight weight = BnbTensors.weight(ckpt, "l");
                assertThat(weight.toFloats()).hasSize(Math.toIntExact(weight.rows() * weight.rowLength()));
                decoded++;
            } catch (SafetensorsException expected) {
                assertThat(expected.getMessage()).contains(file.toString());
            }
        }
        assertThat(decoded).isPositive().isLessThan(cases);
    }

    static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }
}
