package io.panllm.runtime.calibration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.panllm.gguf.GgufFile;
import io.panllm.gguf.GgufTensorInfo;
import io.panllm.tensor.GgmlType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImatrixFileTest {

    static Imatrix sample() {
        Random random = new Random(5);
        Map<String, Imatrix.Entry> entries = new TreeMap<>();
        for (String name : List.of("blk.1.ffn_down.weight", "blk.0.attn_q.weight", "blk.0.ffn_up.weight")) {
            float[] sums = new float[name.contains("down") ? 96 : 64];
            for (int j = 0; j < sums.length; j++) {
                sums[j] = (float) (random.nextDouble() * 1000);
            }
            entries.put(name, new Imatrix.Entry(sums, new float[] {1024}));
        }
        return new Imatrix(new TreeMap<>(entries), 4, 256, List.of("calib.txt"));
    }

    @Test
    void ggufRoundTripKeepsEverything(@TempDir Path dir) throws Exception {
        Imatrix imatrix = sample();
        Path file = dir.resolve("imatrix.gguf");
        ImatrixFile.write(imatrix, file);
        assertThat(ImatrixFile.read(file)).isEqualTo(imatrix);
    }

    /** The layout llama-imatrix writes and llama-quantize's load_imatrix expects. */
    @Test
    void ggufFileHasLlamaCppsKeysNamesAndShapes(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("imatrix.gguf");
        ImatrixFile.write(sample(), file);
        try (GgufFile gguf = GgufFile.open(file)) {
            assertThat(gguf.metadata().getString("general.type")).isEqualTo("imatrix");
            assertThat(gguf.metadata().getStringArray("imatrix.datasets")).containsExactly("calib.txt");
            assertThat(gguf.metadata().getLong("imatrix.chunk_count")).isEqualTo(4);
            assertThat(gguf.metadata().getLong("imatrix.chunk_size")).isEqualTo(256);
            assertThat(gguf.tensors()).extracting(GgufTensorInfo::name).containsExactly(
                    "blk.0.attn_q.weight.in_sum2", "blk.0.attn_q.weight.counts",
                    "blk.0.ffn_up.weight.in_sum2", "blk.0.ffn_up.weight.counts",
                    "blk.1.ffn_down.weight.in_sum2", "blk.1.ffn_down.weight.counts");
            GgufTensorInfo sums = gguf.tensor("blk.1.ffn_down.weight.in_sum2");
            assertThat(sums.type()).isEqualTo(GgmlType.F32);
            assertThat(sums.shape()).containsExactly(96, 1);
            assertThat(gguf.tensor("blk.1.ffn_down.weight.counts").shape()).containsExactly(1, 1);
        }
    }

    @Test
    void legacyRoundTripKeepsTheImportance(@TempDir Path dir) throws Exception {
        Imatrix imatrix = sample();
        Path file = dir.resolve("imatrix.dat");
        ImatrixFile.write(imatrix, file);
        assertThat(Files.readAllBytes(file)).startsWith(3, 0, 0, 0);
        Imatrix back = ImatrixFile.read(file);
        assertThat(back.entries().keySet()).isEqualTo(imatrix.entries().keySet());
        assertThat(back.chunkCount()).isEqualTo(4);
        assertThat(back.datasets()).containsExactly("calib.txt");
        for (String name : imatrix.entries().keySet()) {
            float[] expected = imatrix.importance(name);
            float[] actual = back.importance(name);
            assertThat(actual).hasSameSizeAs(expected);
            for (int j = 0; j < expected.length; j++) {
                assertThat(actual[j]).isCloseTo(expected[j], org.assertj.core.data.Percentage.withPercentage(1e-4));
            }
        }
    }

    /** A .dat built byte by byte as save_imatrix_legacy writes it: values are mean of squares times ncall. */
    @Test
    void handBuiltLegacyFileLoads(@TempDir Path dir) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(2);
        putEntry(b, "blk.0.attn_k.weight", 10, new float[] {10f, 20f, 0.5f, 40f});
        putEntry(b, "output.weight", 0, new float[] {3f, 4f});
        b.putInt(10);
        byte[] dataset = "wiki.train.raw".getBytes(StandardCharsets.US_ASCII);
        b.putInt(dataset.length).put(dataset);
        Path file = dir.resolve("llama.dat");
        Files.write(file, Arrays.copyOf(b.array(), b.position()));

        Imatrix m = ImatrixFile.read(file);
        assertThat(m.importance("blk.0.attn_k.weight")).containsExactly(1f, 2f, 0.05f, 4f);
        assertThat(m.importance("output.weight")).containsExactly(3f, 4f); // ncall 0: taken as is
        assertThat(m.chunkCount()).isEqualTo(10);
        assertThat(m.datasets()).containsExactly("wiki.train.raw");
        assertThat(m.importance("blk.0.attn_q.weight")).isNull();
    }

    /** Older .dat files stop after the entries. */
    @Test
    void legacyFileWithoutTrailerLoads(@TempDir Path dir) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(1);
        putEntry(b, "blk.0.ffn_up.weight", 2, new float[] {2f, 8f});
        Path file = dir.resolve("old.dat");
        Files.write(file, Arrays.copyOf(b.array(), b.position()));
        assertThat(ImatrixFile.read(file).importance("blk.0.ffn_up.weight")).containsExactly(1f, 4f);
    }

    @Test
    void truncatedOrForeignFilesAreRefusedWithAMessage(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("cut.dat");
        ImatrixFile.write(sample(), file);
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, 100));
        assertThatThrownBy(() -> ImatrixFile.read(file)).isInstanceOf(ImatrixException.class).hasMessageContaining("cut.dat");
        Path text = dir.resolve("notes.txt");
        Files.writeString(text, "hello world, not an imatrix");
        assertThatThrownBy(() -> ImatrixFile.read(text)).isInstanceOf(ImatrixException.class);
        Path model = Path.of(System.getProperty("panllm.data", "../shared/data"), "gguf", "llama-2-tiny-random.gguf");
        assertThatThrownBy(() -> ImatrixFile.read(model)).isInstanceOf(ImatrixException.class)
                .hasMessageContaining("without imatrix tensors");
    }

    private static void putEntry(ByteBuffer b, String name, int ncall, float[] values) {
        byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
        b.putInt(bytes.length).put(bytes).putInt(ncall).putInt(values.length);
        for (float v : values) {
            b.putFloat(v);
        }
    }
}
