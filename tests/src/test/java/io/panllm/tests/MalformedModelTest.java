package io.panllm.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.panllm.gguf.GgufArray;
import io.panllm.gguf.GgufFile;
import io.panllm.gguf.GgufTensorInfo;
import io.panllm.gguf.GgufValue;
import io.panllm.gguf.GgufWriter;
import io.panllm.tensor.GgmlType;
import io.panllm.tests.fuzz.FuzzSeeds;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seven kinds of malformed model the fuzzing campaign of issue 10 (section 7) found ending in
 * an exception: each must end in one line naming the problem and exit code 1, for every command
 * that opens the model (generate runs it, convert re-quantizes it).
 */
class MalformedModelTest {
    @TempDir
    static Path dir;
    static Path tiny;
    static Path tinyInt8;

    @BeforeAll
    static void seeds() {
        tiny = dir.resolve("tiny.gguf");
        try {
            FuzzSeeds.writeTinyGguf(tiny);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        tinyInt8 = dir.resolve("tiny-int8.gguf");
        assertThat(Cli.run("convert", tiny.toString(), "--type", "int8", "--allow-extension-types", "-o", tinyInt8.toString()).exitCode()).isZero();
    }

    /** A tensor as the rewritten file holds it: its type, shape and bytes. */
    private record Tensor(GgmlType type, long[] shape, byte[] data) {
    }

    /** {@code seed} rewritten with its metadata and tensors changed by the editors. */
    private static Path rewrite(Path seed, String name, Consumer<Map<String, GgufValue>> metadata,
            Consumer<Map<String, Tensor>> tensors) throws Exception {
        Path out = dir.resolve(name);
        try (GgufFile f = GgufFile.open(seed)) {
            Map<String, GgufValue> meta = new LinkedHashMap<>(f.metadata().asMap());
            meta.remove("general.alignment");
            metadata.accept(meta);
            Map<String, Tensor> table = new LinkedHashMap<>();
            for (GgufTensorInfo t : f.tensors()) {
                table.put(t.name(), new Tensor(t.type(), t.shape(), f.tensorData(t).toArray(ValueLayout.JAVA_BYTE)));
            }
            tensors.accept(table);
            GgufWriter w = new GgufWriter();
            meta.forEach(w::put);
            table.forEach((n, t) -> w.addTensor(n, t.type(), t.shape(), arena -> arena.allocateFrom(ValueLayout.JAVA_BYTE, t.data())));
            w.write(out, null);
        }
        return out;
    }

    private static Path withMetadata(String name, Consumer<Map<String, GgufValue>> edit) throws Exception {
        return rewrite(tiny, name, edit, t -> { });
    }

    /** Both generate and convert end in one line containing every fragment, with exit code 1. */
    private static void refusedEverywhere(Path model, String... fragments) {
        for (Cli.Result r : List.of(Cli.run("generate", "-m", model.toString(), "-p", "Once upon a time", "-n", "2", "--device", "cpu"),
                Cli.run("convert", model.toString(), "--type", "q8_0", "--force", "-o", dir.resolve("out.gguf").toString()))) {
            assertThat(r.exitCode()).as(r.err()).isEqualTo(1);
            assertThat(r.err().strip().lines()).as(r.err()).hasSize(1);
            assertThat(r.err()).contains(fragments).doesNotContain("Exception").doesNotContain("OutOfMemory");
        }
    }

    @Test
    void hugeBlockCountIsRefusedBeforeAnythingIsAllocated() throws Exception {
        refusedEverywhere(withMetadata("blocks.gguf", m -> m.put("llama.block_count", GgufValue.ofUInt32(1 << 30))),
                "block_count is 1073741824 but the tensors are of 2 blocks");
    }

    @Test
    void malformedSentencePieceByteTokenIsNamed() throws Exception {
        Path model = withMetadata("bytetoken.gguf", m -> {
            List<String> tokens = new ArrayList<>(m.get("tokenizer.ggml.tokens").value() instanceof GgufArray a
                    ? a.values() instanceof List<?> l ? l.stream().map(String::valueOf).toList() : List.of() : List.of());
            tokens.set(3 + 0xF3, "<0xy3>");
            m.put("tokenizer.ggml.tokens", GgufValue.ofArray(GgufArray.ofStrings(tokens)));
        });
        Cli.Result r = Cli.run("generate", "-m", model.toString(), "-p", "hi", "-n", "1", "--device", "cpu");
        assertThat(r.exitCode()).as(r.err()).isEqualTo(1);
        assertThat(r.err()).contains("'<0xy3>' is marked as a byte token").doesNotContain("Exception");
    }

    @Test
    void nanLogitsWithTheDefaultSamplerAreAClearError() throws Exception {
        Path model = rewrite(tiny, "nan.gguf", m -> { }, t -> {
            byte[] nan = new byte[4 * FuzzSeeds.DIM];
            for (int i = 0; i < nan.length; i += 4) {
                java.nio.ByteBuffer.wrap(nan, i, 4).order(ByteOrder.LITTLE_ENDIAN).putFloat(Float.NaN);
            }
            t.put("output_norm.weight", new Tensor(GgmlType.F32, new long[] {FuzzSeeds.DIM}, nan));
        });
        Cli.Result r = Cli.run("generate", "-m", model.toString(), "-p", "Once upon a time", "-n", "2", "--device", "cpu");
        assertThat(r.exitCode()).as(r.err()).isEqualTo(1);
        assertThat(r.err()).contains("the model returned NaN logits").doesNotContain("Exception");
    }

    @Test
    void convertOfAModelWithoutArchitectureBlockOrHeadCountNamesTheKey() throws Exception {
        refusedEverywhere(withMetadata("noarch.gguf", m -> m.remove("general.architecture")), "no general.architecture");
        refusedEverywhere(withMetadata("noblocks.gguf", m -> m.remove("llama.block_count")), "llama.block_count is missing");
        refusedEverywhere(withMetadata("noheads.gguf", m -> m.remove("llama.attention.head_count")), "llama.attention.head_count is missing");
    }

    @Test
    void blockCountStoredAsAStringNamesTheKeyAndTheType() throws Exception {
        refusedEverywhere(withMetadata("stringblocks.gguf", m -> m.put("llama.block_count", GgufValue.ofString("2"))),
                "'llama.block_count' is STRING, expected an integer");
    }

    @Test
    void int8RowScalesThatAreNotF32AreNamed() throws Exception {
        Path model = rewrite(tinyInt8, "scb.gguf", m -> { }, t -> {
            Tensor scb = t.get("blk.0.attn_q.scb");
            t.put("blk.0.attn_q.scb", new Tensor(GgmlType.F16, scb.shape(), java.util.Arrays.copyOf(scb.data(), scb.data().length / 2)));
        });
        refusedEverywhere(model, "'blk.0.attn_q.weight' needs its row absmax as an F32 tensor");
    }

    @Test
    void int8WeightWithAZeroDimensionIsNamed() throws Exception {
        Path model = rewrite(tinyInt8, "zero.gguf", m -> { }, t -> t.put("blk.0.attn_q.weight", new Tensor(GgmlType.I8, new long[] {0, 32}, new byte[0])));
        refusedEverywhere(model, "blk.0.attn_q.weight", "shape [0, 32]");
    }
}
