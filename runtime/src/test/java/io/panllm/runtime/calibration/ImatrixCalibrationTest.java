package io.panllm.runtime.calibration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.panllm.gguf.GgufFile;
import io.panllm.runtime.Session;
import io.panllm.runtime.convert.ConvertException;
import io.panllm.runtime.convert.Converter;
import io.panllm.runtime.convert.Llama2cSource;
import io.panllm.runtime.convert.QuantPolicy;
import io.panllm.runtime.convert.TargetType;
import io.panllm.runtime.cpu.CpuBackend;
import io.panllm.runtime.model.LlamaModel;
import io.panllm.tensor.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** imatrix collection on the trained stories260K model, and conversion with the result. */
class ImatrixCalibrationTest {
    @TempDir
    static Path dir;
    static Path f32;
    static String text;

    @BeforeAll
    static void convertStories() throws Exception {
        Path stories = Path.of(System.getProperty("panllm.home", ".."), "models/stories260K/stories260K_q80.bin");
        f32 = dir.resolve("stories-f32.gguf");
        try (Llama2cSource source = new Llama2cSource(stories, null)) {
            Converter.convert(source, QuantPolicy.forSource(source, TargetType.F32, null, null), f32, null);
        }
        String wiki = Files.readString(Path.of(System.getProperty("panllm.data", "../shared/data"), "wikitext-2/wiki.test.raw"));
        text = wiki.substring(0, 4000);
    }

    @Test
    void collectsEveryBlockMatrixOverEveryToken() {
        Imatrix m;
        try (ImatrixCalibration calibration = new ImatrixCalibration(f32, 1)) {
            m = calibration.run(text, "wiki", 64, 3, null);
        }
        assertThat(m.chunkCount()).isEqualTo(3);
        assertThat(m.chunkSize()).isEqualTo(64);
        assertThat(m.datasets()).containsExactly("wiki");
        assertThat(m.entries()).hasSize(5 * 7); // 5 layers x q, k, v, output, gate, up, down; no token_embd/output
        assertThat(m.entries().keySet()).allMatch(n -> n.startsWith("blk."));
        for (Imatrix.Entry e : m.entries().values()) {
            assertThat(e.counts()).containsExactly(3 * 64f);
            for (float s : e.sums()) {
                assertThat(s).isPositive().isFinite();
            }
        }
        // q, k and v multiply the same normed vectors; the output projection does not
        assertThat(m.entries().get("blk.2.attn_k.weight")).isEqualTo(m.entries().get("blk.2.attn_q.weight"));
        assertThat(m.entries().get("blk.2.attn_v.weight")).isEqualTo(m.entries().get("blk.2.attn_q.weight"));
        assertThat(m.entries().get("blk.2.attn_output.weight")).isNotEqualTo(m.entries().get("blk.2.attn_q.weight"));
        assertThat(m.entries().get("blk.0.ffn_down.weight").columns()).isEqualTo(172);
    }

    /** The first layer's attention input is the RMS-normed embedding: its mean square per column, computed here directly. */
    @Test
    void firstLayerImportanceIsTheMeanSquareOfTheNormedEmbeddings() {
        int ctx = 32;
        Imatrix m;
        int[] chunk;
        try (ImatrixCalibration calibration = new ImatrixCalibration(f32, 1)) {
            m = calibration.run(text, "wiki", ctx, 1, null);
            chunk = calibration.tokenizer().encode(text, calibration.tokenizer().vocabulary().addBos(), false);
            if (calibration.tokenizer().vocabulary().addBos()) {
                chunk[0] = calibration.tokenizer().bos();
            }
        }
        try (GgufFile file = GgufFile.open(f32)) {
            float[] embeddings = floats(file, "token_embd.weight");
            float[] norm = floats(file, "blk.0.attn_norm.weight");
            int dim = norm.length;
            double[] expected = new double[dim];
            for (int t = 0; t < ctx; t++) {
                int token = chunk[t];
                double ss = 0;
                for (int j = 0; j < dim; j++) {
                    ss += embeddings[token * dim + j] * embeddings[token * dim + j];
                }
                double scale = 1 / Math.sqrt(ss / dim + 1e-5);
                for (int j = 0; j < dim; j++) {
                    double x = embeddings[token * dim + j] * scale * norm[j];
                    expected[j] += x * x;
                }
            }
            float[] importance = m.importance("blk.0.attn_q.weight");
            for (int j = 0; j < dim; j++) {
                assertThat((double) importance[j]).isCloseTo(expected[j] / ctx, org.assertj.core.data.Percentage.withPercentage(0.01));
            }
        }
    }

    private static float[] floats(GgufFile file, String name) {
        var info = file.tensor(name);
        float[] v = new float[Math.toIntExact(info.elementCount())];
        MemorySegment.copy(file.tensorData(info), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, v, 0, v.length);
        return v;
    }

    /**
     * Collection leaves the forward pass as it was: the same logits with and without an observer (to
     * float rounding: the Vector API's lane reductions may sum in another order before and after
     * the JIT compiles them, so two runs of the same model differ in the last bits too).
     */
    @Test
    void observerDoesNotChangeTheLogits() {
        int[] tokens = {1, 400, 30, 61, 300, 70, 5, 9, 17, 200, 3, 4, 5, 6, 7, 8, 9, 10, 11};
        try (GgufFile file = GgufFile.open(f32); CpuBackend plain = new CpuBackend(1);
             CpuBackend observed = new CpuBackend(1, new ImatrixCollector());
             LlamaModel a = LlamaModel.load(file, plain); LlamaModel b = LlamaModel.load(file, observed);
             Session sa = a.newSession(32); Session sb = b.newSession(32)) {
            float[] expected = sa.forward(tokens);
            float[] actual = sb.forward(tokens);
            assertThat(actual).hasSameSizeAs(expected);
            for (int i = 0; i < expected.length; i++) {
                assertThat(actual[i]).isCloseTo(expected[i], org.assertj.core.data.Offset.offset(1e-4f));
            }
        }
    }

    @Test
    void convertWithImatrixWeightsTheTensorsItHasEntriesFor() throws Exception {
        Imatrix m;
        try (ImatrixCalibration calibration = new ImatrixCalibration(f32, 1)) {
            m = calibration.run(text, "wiki", 64, 2, null);
        }
        Path plain = dir.resolve("q4_0.gguf");
        Path weighted = dir.resolve("q4_0-imatrix.gguf");
        try (Llama2cSource source = stories()) {
            QuantPolicy policy = QuantPolicy.forSource(source, TargetType.Q4_0, null, null);
            Converter.convert(source, policy, plain, null);
            Converter.convert(source, policy, weighted, null, m);
            assertThat(Converter.weightedTensorCount(source, policy, m)).isEqualTo(5 * 6); // ffn_down rows (172) fall back to F16
        }
        try (GgufFile p = GgufFile.open(plain); GgufFile w = GgufFile.open(weighted); GgufFile base = GgufFile.open(f32);
             Arena arena = Arena.ofConfined()) {
            for (var info : w.tensors()) {
                byte[] plainBytes = p.tensorData(p.tensor(info.name())).toArray(ValueLayout.JAVA_BYTE);
                byte[] weightedBytes = w.tensorData(info).toArray(ValueLayout.JAVA_BYTE);
                float[] importance = info.type() == GgmlType.Q4_0 ? m.importance(info.name()) : null;
                if (importance == null) {
                    assertThat(weightedBytes).as(info.name()).isEqualTo(plainBytes);
                    continue;
                }
                float[] x = floats(base, info.name());
                int cols = (int) info.dim(0);
                MemorySegment expected = arena.allocate(info.byteSize());
                GgmlType.Q4_0.codec().quantizeRows(x, 0, x.length / cols, cols, importance, expected);
                assertThat(weightedBytes).as(info.name()).isEqualTo(expected.toArray(ValueLayout.JAVA_BYTE));
                assertThat(weightedBytes).as(info.name()).isNotEqualTo(plainBytes);
            }
        }
    }

    @Test
    void anImatrixOfAnotherShapeIsRefused() throws Exception {
        Map<String, Imatrix.Entry> entries = new TreeMap<>();
        entries.put("blk.0.attn_q.weight", new Imatrix.Entry(new float[128], new float[] {1}));
        Imatrix wrong = new Imatrix(new TreeMap<>(entries), 1, 1, List.of("x"));
        try (Llama2cSource source = stories()) {
            QuantPolicy policy = QuantPolicy.forSource(source, TargetType.Q4_0, null, null);
            assertThatThrownBy(() -> Converter.convert(source, policy, dir.resolve("wrong.gguf"), null, wrong))
                    .isInstanceOf(ConvertException.class).hasMessageContaining("blk.0.attn_q.weight");
        }
        assertThat(dir.resolve("wrong.gguf")).doesNotExist();
    }

    @Test
    void aTextShorterThanOneChunkIsRefused() {
        try (ImatrixCalibration calibration = new ImatrixCalibration(f32, 1)) {
            assertThatThrownBy(() -> calibration.run("Once upon a time", "x", 64, -1, null))
                    .isInstanceOf(ImatrixException.class).hasMessageContaining("fewer than one chunk");
        }
    }

    private static Llama2cSource stories() {
        return new Llama2cSource(Path.of(System.getProperty("panllm.home", ".."), "models/stories260K/stories260K_q80.bin"), null);
    }
}
