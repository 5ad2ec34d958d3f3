package io.panllm.runtime.convert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.panllm.hf.BnbCheckpointWriter;
import io.panllm.hf.HfConfig;
import io.panllm.safetensors.BnbTensors;
import io.panllm.safetensors.SafetensorsCheckpoint;
import io.panllm.safetensors.SafetensorsTensor;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class HfExportTest {
    @TempDir
    Path dir;

    private static Path gguf(ModelSource source, Path output) throws Exception {
        try (source) {
            boolean hasOutput = source.tensors().stream().anyMatch(t -> t.name().equals("output.weight"));
            QuantPolicy policy = new QuantPolicy(TargetType.F32, TinyHfCheckpoint.LAYERS,
                    TinyHfCheckpoint.HEADS / TinyHfCheckpoint.KV_HEADS, hasOutput, null, null);
            Converter.convert(source, policy, output, null);
        }
        return output;
    }

    private static byte[] bytes(SafetensorsTensor t) {
        return t.data().toArray(ValueLayout.JAVA_BYTE);
    }

    /** Every tensor of {@code actual} has the name, dtype, shape and bytes of the one in {@code expected}, and no more. */
    private static void assertSameTensors(Path actual, Path expected) {
        try (SafetensorsCheckpoint a = SafetensorsCheckpoint.open(actual); SafetensorsCheckpoint e = SafetensorsCheckpoint.open(expected)) {
            assertThat(a.names()).containsExactlyInAnyOrderElementsOf(e.names());
            for (String name : e.names()) {
                SafetensorsTensor x = a.require(name);
                SafetensorsTensor y = e.require(name);
                assertThat(x.dtype()).as(name).isEqualTo(y.dtype());
                assertThat(x.shape()).as(name).containsExactly(y.shape());
                assertThat(bytes(x)).as(name).isEqualTo(bytes(y));
            }
        }
    }

    /** HF -> GGUF -> HF -> GGUF: the HF tensors come back bit for bit (Q/K un-permuted), and so does the GGUF. */
    @Test
    void hfToGgufToHfToGgufRoundTrips() throws Exception {
        TinyHfCheckpoint hf = new TinyHfCheckpoint(31, false);
        Path original = hf.write(dir.resolve("a").resolve("model"));
        Path first = gguf(new HfSource(original), dir.resolve("first.gguf"));

        Path exported = dir.resolve("b").resolve("model");
        HfExport.Result result;
        try (GgufSource source = new GgufSource(first)) {
            result = HfExport.export(source, HfExport.Format.BF16, exported, HfExport.DEFAULT_SHARD_BYTES, false);
        }
        assertThat(result.notes()).isEmpty();
        assertThat(exported.resolve("model.safetensors")).exists();
        assertThat(exported.resolve("tokenizer.json")).exists();
        assertSameTensors(exported, original);

        HfConfig config = HfConfig.read(exported);
        HfConfig originalConfig = HfConfig.read(original);
        assertThat(config.ropeScaling()).isEqualTo(originalConfig.ropeScaling());
        assertThat(config.ropeTheta()).isEqualTo(originalConfig.ropeTheta());
        assertThat(config.rmsNormEps()).isEqualTo(1e-5);
        assertThat(config.tieWordEmbeddings()).isFalse();
        assertThat(config.torchDtype()).isEqualTo("bfloat16");
        assertThat(config.unsupported()).isEmpty();
        try (Stream<Path> left = Files.list(exported.getParent())) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactly("model"); // no staging directory left
        }

        // Our own HF reader on our output gives the same GGUF, bit for bit: same tensors, metadata, tokenizer and so logits.
        Path second = gguf(new HfSource(exported), dir.resolve("second.gguf"));
        assertThat(Files.readAllBytes(second)).isEqualTo(Files.readAllBytes(first));
    }

    @Test
    void shardsWithAnIndexReadBackAsTheSameCheckpoint() throws Exception {
        TinyHfCheckpoint hf = new TinyHfCheckpoint(32, true);
        Path original = hf.write(dir.resolve("model"));
        Path sharded = dir.resolve("sharded");
        try (HfSource source = new HfSource(original)) {
            HfExport.export(source, HfExport.Format.BF16, sharded, 3_000_000, false);
        }
        assertThat(sharded.resolve("model.safetensors.index.json")).exists();
        assertThat(sharded.resolve("model.safetensors")).doesNotExist();
        try (Stream<Path> files = Files.list(sharded)) {
            assertThat(files.filter(p -> p.getFileName().toString().matches("model-0000\\d-of-0000\\d\\.safetensors")).count())
                    .isGreaterThan(1);
        }
        assertThat(Files.readString(sharded.resolve("model.safetensors.index.json"))).contains("\"total_size\"")
                .contains("\"model.layers.1.mlp.down_proj.weight\"");
        assertSameTensors(sharded, original);
        // copied through from the HF source
        assertThat(sharded.resolve("tokenizer_config.json")).hasSameTextualContentAs(original.resolve("tokenizer_config.json"));
        assertThat(HfConfig.read(sharded).tieWordEmbeddings()).isTrue();
    }

    /** The bitsandbytes layouts are those of BnbCheckpointWriter (transformers + bitsandbytes' key set), tensor for tensor. */
    @ParameterizedTest
    @EnumSource(value = HfExport.Format.class, names = {"NF4", "FP4", "INT8"})
    void bitsandbytesLayoutsMatchBnbCheckpointWriter(HfExport.Format format) throws Exception {
        TinyHfCheckpoint hf = new TinyHfCheckpoint(33, false);
        Path original = hf.write(dir.resolve("model"));
        Path ours = dir.resolve("ours");
        try (HfSource source = new HfSource(original)) {
            HfExport.export(source, format, ours, HfExport.DEFAULT_SHARD_BYTES, false);
        }
        Path reference = dir.resolve("reference");
        BnbCheckpointWriter.quantize(original, reference, BnbTensors.Kind.valueOf(format.name()), false);
        assertSameTensors(ours, reference);
        HfConfig config = HfConfig.read(ours);
        assertThat(config.quantizationConfig()).isEqualTo(HfConfig.read(reference).quantizationConfig());
        assertThat(config.isBnb4bit() || config.isBnb8bit()).isTrue();
        // and it converts back to GGUF like any bitsandbytes checkpoint
        try (HfSource back = new HfSource(ours)) {
            assertThat(back.description()).contains("bitsandbytes " + format.name().toLowerCase());
        }
    }

    @Test
    void unpermutationInvertsThePermutation() {
        for (int headDim : new int[] {2, 8, 64}) {
            for (long row = 0; row < 3L * headDim; row++) {
                assertThat(HfExport.ggufRowOf(HfSource.hfRowOf(row, headDim), headDim)).isEqualTo(row);
            }
        }
    }

    @Test
    void existingTargetNeedsReplaceAndGgufOnlyRopeIsRefused() throws Exception {
        Path original = new TinyHfCheckpoint(34, true).write(dir.resolve("model"));
        Files.createDirectories(dir.resolve("taken"));
        try (HfSource source = new HfSource(original)) {
            assertThatThrownBy(() -> HfExport.export(source, HfExport.Format.F16, dir.resolve("taken"), 1L << 30, false))
                    .hasMessageContaining("exists");
            HfExport.export(source, HfExport.Format.F16, dir.resolve("taken"), 1L << 30, true);
        }
        assertThat(dir.resolve("taken").resolve("config.json")).exists();
        assertThat(HfConfig.read(dir.resolve("taken")).torchDtype()).isEqualTo("float16");

        RandomInit yarn = new RandomInit(RandomInit.Shape.TINY, 1, null);
        yarn.metadata().put("llama.rope.scaling.type", io.panllm.gguf.GgufValue.ofString("yarn"));
        assertThatThrownBy(() -> HfExport.export(yarn, HfExport.Format.F32, dir.resolve("yarn"), 1L << 30, false))
                .isInstanceOf(ConvertException.class).hasMessageContaining("yarn");
        assertThat(dir.resolve("yarn")).doesNotExist();
    }

    @Test
    void sentencePieceVocabularyIsNamedAsMissing() throws Exception {
        try (RandomInit source = new RandomInit(RandomInit.Shape.TINY, 1, null)) {
            HfExport.Result r = HfExport.export(source, HfExport.Format.F32, dir.resolve("tiny"), 1L << 30, false);
            assertThat(r.notes()).singleElement().asString().contains("tokenizer.model");
            assertThat(HfConfig.read(dir.resolve("tiny")).vocabSize()).isEqualTo(512);
            assertThat(HfConfig.read(dir.resolve("tiny")).tieWordEmbeddings()).isTrue();
        }
        assertThat(List.of(dir.resolve("tiny").toFile().list())).contains("config.json", "model.safetensors");
    }
}
