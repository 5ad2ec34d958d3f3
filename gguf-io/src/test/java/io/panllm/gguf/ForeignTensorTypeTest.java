package io.panllm.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.panllm.tensor.GgmlType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A GGUF whose tensor has a type id of another program (ik_llama.cpp's iq4_nl recipe puts type 140 on attn_v). */
class ForeignTensorTypeTest {
    private static final String NAME = "blk.0.attn_v.weight";

    /** A one-tensor GGUF whose tensor type id is patched to {@code id}. */
    private static byte[] withTypeId(Path dir, int id) throws IOException {
        Path p = dir.resolve("m.gguf");
        new GgufWriter().putString("general.architecture", "llama")
                .addTensor(NAME, GgmlType.F32, new long[] {256, 2}, arena -> arena.allocate(256 * 2 * 4)).write(p, null);
        byte[] bytes = Files.readAllBytes(p);
        byte[] name = NAME.getBytes(StandardCharsets.UTF_8);
        int at = -1;
        for (int i = 0; i + name.length <= bytes.length && at < 0; i++) {
            if (java.util.Arrays.equals(bytes, i, i + name.length, name, 0, name.length)) {
                at = i;
            }
        }
        int typeAt = at + name.length + 4 + 2 * 8; // name, n_dims, two dims
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.getInt(typeAt)).isEqualTo(GgmlType.F32.id);
        b.putInt(typeAt, id);
        return bytes;
    }

    @Test
    void ikLlamaTypeIsNamedAsAnotherProgramsWithWhatPanllmReads(@TempDir Path dir) throws IOException {
        byte[] file = withTypeId(dir, 140);
        assertThatThrownBy(() -> GgufFile.fromBytes(file, "ik.gguf")).isInstanceOf(GgufException.class)
                .hasMessageContaining(NAME)
                .hasMessageContaining("type id 140")
                .hasMessageContaining("ik_llama.cpp's IQ5_K")
                .hasMessageContaining("not of GGUF as llama.cpp defines it")
                .hasMessageContaining("panllm reads F32, F16, Q4_0")
                .hasMessageContaining("IQ4_NL")
                .hasMessageNotContaining("\n");
    }

    @Test
    void removedNewerAndUnheardOfIds(@TempDir Path dir) throws IOException {
        assertThatThrownBy(() -> GgufFile.fromBytes(withTypeId(dir, 31), "x")).hasMessageContaining("Q4_0_4_4")
                .hasMessageContaining("removed from GGUF by llama.cpp");
        assertThatThrownBy(() -> GgufFile.fromBytes(withTypeId(dir, 40), "x")).hasMessageContaining("NVFP4");
        assertThatThrownBy(() -> GgufFile.fromBytes(withTypeId(dir, 220), "x")).hasMessageContaining("ik_llama.cpp's IQ4_NL_R4");
        assertThatThrownBy(() -> GgufFile.fromBytes(withTypeId(dir, 77777), "x")).isInstanceOf(GgufException.class)
                .hasMessageContaining("type id 77777").hasMessageContaining("nor of a fork panllm knows");
    }

    @Test
    void supportedTypesAreThoseWithACodec() {
        assertThat(GgmlType.supported()).contains(GgmlType.F32, GgmlType.Q4_K, GgmlType.IQ4_NL, GgmlType.NF4)
                .doesNotContain(GgmlType.Q2_K, GgmlType.IQ2_XXS);
        for (GgmlType t : GgmlType.supported()) {
            assertThat(t.codec()).isNotNull();
        }
    }
}
