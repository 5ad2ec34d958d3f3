package io.panllm.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.panllm.safetensors.SafetensorsCheckpoint;
import io.panllm.safetensors.SafetensorsDtype;
import io.panllm.safetensors.SafetensorsWriter;
import io.panllm.tensor.Bnb4bit;
import io.panllm.tensor.Int8RowWise;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BnbWeightTest {
    @TempDir
    Path dir;

    private static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextDouble(-1, 1) * (1 + i % 7));
        }
        return v;
    }

    private static BnbWriter.RowSource rowsOf(float[] values, int columns) {
        return (first, count, dst) -> System.arraycopy(values, (int) (first * columns), dst, 0, count * columns);
    }

    @ParameterizedTest
    @CsvSource({"NF4, false", "NF4, true", "FP4, false", "FP4, true"})
    void fourBitWeightsWrittenHereDecodeAsBitsandbytesDoes(Bnb4bit.QuantType type, boolean doubleQuant) throws Exception {
        int rows = 7;
        int columns = 40; // 280 elements: blocks straddle rows, the last block is partial
        float[] values = random(rows * columns, 1);
        Path file = dir.resolve("model.safetensors");
        SafetensorsWriter w = new SafetensorsWriter().putMetadata("format", "pt");
        BnbWriter.add4bit(w, "m.proj", type, doubleQuant, "bfloat16", rows, columns, rowsOf(values, columns));
        w.write(file);

        // What bitsandbytes would decode: the library codec over the same codes and absmax.
        Bnb4bit.Quantized reference = Bnb4bit.quantize(type, values, 0, values.length, 64);
        float[] absmax = doubleQuant ? Bnb4bit.quantizeAbsmax(reference.absmax()).dequantize() : reference.absmax();
        float[] expected = Bnb4bit.dequantize(type, MemorySegment.ofArray(reference.packedCodes()), absmax, 64, values.length);

        String suffix = "quant_state.bitsandbytes__" + type.name().toLowerCase();
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(file)) {
            assertThat(c.tensors().keySet()).containsExactlyElementsOf(doubleQuant
                    ? java.util.List.of("m.proj.weight", "m.proj.weight.absmax", "m.proj.weight.quant_map",
                            "m.proj.weight.nested_absmax", "m.proj.weight.nested_quant_map", "m.proj.weight." + suffix)
                    : java.util.List.of("m.proj.weight", "m.proj.weight.absmax", "m.proj.weight.quant_map", "m.proj.weight." + suffix));
            assertThat(c.tensor("m.proj.weight").shape()).containsExactly(140, 1);
            String json = new String(c.tensor("m.proj.weight." + suffix).data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                    StandardCharsets.UTF_8);
            assertThat(json).contains("\"shape\": [7, 40]").contains("\"blocksize\": 64").contains("\"dtype\": \"bfloat16\"");
            assertThat(BnbWeight.kindOf(c, "m.proj").name()).isEqualTo(type.name());
            BnbWeight weight = BnbWeight.open(c, "m.proj");
            assertThat(weight.shape()).containsExactly(7, 40);
            float[] all = new float[rows * columns];
            weight.readRows(0, rows, all);
            assertThat(all).containsExactly(expected);
            float[] middle = new float[2 * columns];
            weight.readRows(3, 2, middle);
            assertThat(middle).containsExactly(java.util.Arrays.copyOfRange(expected, 3 * columns, 5 * columns));
            double maxError = 0;
            for (int i = 0; i < values.length; i++) {
                maxError = Math.max(maxError, Math.abs(all[i] - values[i]));
            }
            assertThat(maxError).isLessThan(type == Bnb4bit.QuantType.NF4 ? 1.2 : 1.8); // |x| <= 7, 4 bits
        }
    }

    @Test
    void doubleQuantizationAcrossManyNestedBlocks() throws Exception {
        int rows = 300;
        int columns = 128; // 600 blocks: three nested groups of 256
        float[] values = random(rows * columns, 2);
        Path file = dir.resolve("big.safetensors");
        SafetensorsWriter w = new SafetensorsWriter();
        BnbWriter.add4bit(w, "x", Bnb4bit.QuantType.NF4, true, "float16", rows, columns, rowsOf(values, columns));
        w.write(file);
        Bnb4bit.Quantized reference = Bnb4bit.quantize(Bnb4bit.QuantType.NF4, values, 0, values.length, 64);
        float[] absmax = Bnb4bit.quantizeAbsmax(reference.absmax()).dequantize();
        float[] expected = Bnb4bit.dequantize(Bnb4bit.QuantType.NF4, MemorySegment.ofArray(reference.packedCodes()), absmax, 64,
                values.length);
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(file)) {
            BnbWeight weight = BnbWeight.open(c, "x");
            float[] part = new float[10 * columns];
            weight.readRows(250, 10, part);
            assertThat(part).containsExactly(java.util.Arrays.copyOfRange(expected, 250 * columns, 260 * columns));
        }
    }

    @Test
    void int8WeightsRoundTrip() throws Exception {
        int rows = 5;
        int columns = 33;
        float[] values = random(rows * columns, 3);
        Path file = dir.resolve("int8.safetensors");
        SafetensorsWriter w = new SafetensorsWriter();
        BnbWriter.addInt8(w, "layer", rows, columns, rowsOf(values, columns));
        w.write(file);
        byte[] codes = new byte[rows * columns];
        float[] scb = new float[rows];
        Int8RowWise.quantize(values, 0, rows, columns, MemorySegment.ofArray(codes), scb);
        float[] expected = new float[values.length];
        Int8RowWise.dequantize(MemorySegment.ofArray(codes), scb, rows, columns, expected, 0);
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(file)) {
            assertThat(c.tensors().keySet()).containsExactly("layer.weight", "layer.SCB", "layer.weight_format");
            BnbWeight weight = BnbWeight.open(c, "layer");
            assertThat(weight.kind()).isEqualTo(BnbWeight.Kind.INT8);
            float[] got = new float[2 * columns];
            weight.readRows(2, 2, got);
            assertThat(got).containsExactly(java.util.Arrays.copyOfRange(expected, 2 * columns, 4 * columns));
        }
    }

    @Test
    void inconsistentTensorsAreRefusedByName() throws Exception {
        Path file = dir.resolve("bad.safetensors");
        byte[] state = "{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"bfloat16\", \"shape\": [4, 64]}"
                .getBytes(StandardCharsets.UTF_8);
        new SafetensorsWriter()
                .addBytes("q.weight", SafetensorsDtype.U8, new long[] {100, 1}, new byte[100]) // needs 128
                .addFloats("q.weight.absmax", new long[] {4}, new float[4])
                .addFloats("q.weight.quant_map", new long[] {16}, Bnb4bit.QuantType.NF4.table())
                .addBytes("q.weight.quant_state.bitsandbytes__nf4", SafetensorsDtype.U8, new long[] {state.length}, state)
                .write(file);
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(file)) {
            assertThatThrownBy(() -> BnbWeight.open(c, "q")).isInstanceOf(HfCheckpointException.class)
                    .hasMessageContaining("q.weight").hasMessageContaining("128 packed bytes");
            assertThatThrownBy(() -> BnbWeight.open(c, "absent")).isInstanceOf(HfCheckpointException.class)
                    .hasMessageContaining("absent.weight");
        }
    }
}
