package io.panllm.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.panllm.tensor.HalfFloats;
import io.panllm.tensor.LittleEndian;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsRoundTripTest {
    @TempDir
    Path dir;

    static Path writeSample(Path file) throws Exception {
        float[] f32 = {1.5f, -2.25f, 3f, 0f, 1e-3f, -7f};
        byte[] bf16 = new byte[8];
        ByteBuffer b = ByteBuffer.wrap(bf16).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : new float[] {1f, -0.5f, 2f, 1024f}) {
            b.putShort(HalfFloats.toBf16(v));
        }
        byte[] f16 = new byte[4];
        ByteBuffer.wrap(f16).order(ByteOrder.LITTLE_ENDIAN).putShort(HalfFloats.toFp16(0.25f)).putShort(HalfFloats.toFp16(-3f));
        new SafetensorsWriter()
                .putMetadata("format", "pt")
                .addFloats("a.weight", new long[] {2, 3}, f32)
                .addBytes("b", SafetensorsDtype.BF16, new long[] {4}, bf16)
                .addBytes("c", SafetensorsDtype.F16, new long[] {1, 2}, f16)
                .addBytes("codes", SafetensorsDtype.I8, new long[] {3}, new byte[] {-128, 0, 127})
                .addBytes("empty", SafetensorsDtype.U8, new long[] {0, 5}, new byte[0])
                .addBytes("scalar", SafetensorsDtype.U8, new long[] {}, new byte[] {(byte) 200})
                .write(file);
        return file;
    }

    @Test
    void writtenFileReadsBackWithMetadataShapesAndValues() throws Exception {
        Path file = writeSample(dir.resolve("model.safetensors"));
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.metadata()).isEqualTo(Map.of("format", "pt"));
            assertThat(f.dataOffset() % 8).isZero();
            assertThat(f.tensors().keySet()).containsExactly("a.weight", "b", "c", "codes", "empty", "scalar");
            SafetensorsTensor a = f.tensor("a.weight");
            assertThat(a.dtype()).isEqualTo(SafetensorsDtype.F32);
            assertThat(a.shape()).containsExactly(2, 3);
            assertThat(a.toFloats()).containsExactly(1.5f, -2.25f, 3f, 0f, 1e-3f, -7f);
            float[] part = new float[2];
            a.readFloats(3, 2, part, 0);
            assertThat(part).containsExactly(0f, 1e-3f);
            assertThat(f.tensor("b").toFloats()).containsExactly(1f, -0.5f, 2f, 1024f);
            assertThat(f.tensor("c").toFloats()).containsExactly(0.25f, -3f);
            assertThat(f.tensor("codes").toFloats()).containsExactly(-128f, 0f, 127f);
            assertThat(f.tensor("empty").elementCount()).isZero();
            assertThat(f.tensor("scalar").toFloats()).containsExactly(200f);
            assertThat(f.tensor("a.weight").data().byteSize()).isEqualTo(24);
            assertThatThrownBy(() -> f.tensor("nope")).isInstanceOf(SafetensorsException.class).hasMessageContaining("nope");
        }
        String header = new String(Files.readAllBytes(file), 8, 200, StandardCharsets.UTF_8);
        assertThat(header).contains("\"__metadata__\":{\"format\":\"pt\"}");
    }

    @Test
    void writerRefusesASourceOfTheWrongSizeAndLeavesNoFile() {
        Path file = dir.resolve("bad.safetensors");
        SafetensorsWriter w = new SafetensorsWriter().add("x", SafetensorsDtype.F32, new long[] {4}, MemorySegment.ofArray(new byte[3]));
        assertThatThrownBy(() -> w.write(file)).isInstanceOf(SafetensorsException.class).hasMessageContaining("'x'");
        assertThat(file).doesNotExist();
        assertThat(dir.toFile().list()).isEmpty();
    }

    @Test
    void shardedCheckpointIsOneViewByName() throws Exception {
        new SafetensorsWriter().addFloats("x", new long[] {2}, new float[] {1, 2}).write(dir.resolve("model-00001-of-00002.safetensors"));
        new SafetensorsWriter().addFloats("y", new long[] {1}, new float[] {3}).write(dir.resolve("model-00002-of-00002.safetensors"));
        Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX_FILE), """
                {"metadata": {"total_size": 12}, "weight_map": {"x": "model-00001-of-00002.safetensors",
                 "y": "model-00002-of-00002.safetensors"}}""");
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir)) {
            assertThat(c.files()).hasSize(2);
            assertThat(c.tensors().keySet()).containsExactly("x", "y");
            assertThat(c.tensor("y").toFloats()).containsExactly(3f);
            assertThat(c.contains("z")).isFalse();
        }
    }

    @Test
    void indexNamingAFileOutsideTheDirectoryIsRefused() throws Exception {
        Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX_FILE), "{\"weight_map\": {\"x\": \"../etc/passwd\"}}");
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("not a file in this directory");
    }

    @Test
    void readsHeaderWrittenByTheReferenceFormatWithFloat32LittleEndian() throws Exception {
        // Hand-made file as safetensors' Python writer lays it out (header padded with spaces).
        String json = "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        byte[] header = (json + " ".repeat((8 - json.length() % 8) % 8)).getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + header.length + 8).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(header.length).put(header).putFloat(0.5f).putFloat(-4f);
        Path file = dir.resolve("ref.safetensors");
        Files.write(file, buf.array());
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.tensor("t").toFloats()).containsExactly(0.5f, -4f);
            assertThat(f.tensor("t").data().get(LittleEndian.FLOAT, 4)).isEqualTo(-4f);
        }
    }
}
