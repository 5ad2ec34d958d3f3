package io.panllm.runtime.convert;

import static org.assertj.core.api.Assertions.assertThat;

import io.panllm.tensor.GgmlType;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class QuantPolicyTest {
    static final long[] MATRIX = {2048, 2048};
    static final long[] FFN_DOWN = {8192, 2048};

    @Test
    void q4KMGivesQ6KToTheLayersLlamaCppPicks() {
        QuantPolicy p = new QuantPolicy(TargetType.Q4_K_M, 16, 4, false, null, null);
        List<Integer> bumped = new ArrayList<>();
        for (int l = 0; l < 16; l++) {
            GgmlType v = p.typeFor("blk." + l + ".attn_v.weight", MATRIX);
            GgmlType down = p.typeFor("blk." + l + ".ffn_down.weight", FFN_DOWN);
            assertThat(down).isEqualTo(v);
            assertThat(p.typeFor("blk." + l + ".attn_q.weight", MATRIX)).isEqualTo(GgmlType.Q4_K);
            if (v == GgmlType.Q6_K) {
                bumped.add(l);
            } else {
                assertThat(v).isEqualTo(GgmlType.Q4_K);
            }
        }
        // use_more_bits(i, 16): i < 2, i >= 14, (i - 2) % 3 == 2
        assertThat(bumped).containsExactly(0, 1, 4, 7, 10, 13, 14, 15);
        // Tied embeddings: token_embd is the output matrix and gets Q6_K; norms stay F32.
        assertThat(p.typeFor("token_embd.weight", new long[] {2048, 128256})).isEqualTo(GgmlType.Q6_K);
        assertThat(p.typeFor("blk.0.attn_norm.weight", new long[] {2048})).isEqualTo(GgmlType.F32);
        assertThat(p.typeFor("rope_freqs.weight", new long[] {32})).isEqualTo(GgmlType.F32);
    }

    @Test
    void outputAndEmbeddingRules() {
        QuantPolicy q40 = new QuantPolicy(TargetType.Q4_0, 32, 4, true, null, null);
        assertThat(q40.typeFor("output.weight", new long[] {4096, 128256})).isEqualTo(GgmlType.Q6_K);
        assertThat(q40.typeFor("token_embd.weight", new long[] {4096, 128256})).isEqualTo(GgmlType.Q4_0);
        QuantPolicy q80 = new QuantPolicy(TargetType.Q8_0, 32, 4, true, null, null);
        assertThat(q80.typeFor("output.weight", new long[] {4096, 128256})).isEqualTo(GgmlType.Q8_0);
        // Rows of 64 are not whole 256-blocks: the output falls to Q8_0, Q4_K to Q5_0 (llama.cpp's fallbacks).
        QuantPolicy small = new QuantPolicy(TargetType.Q4_K_M, 5, 2, false, null, null);
        assertThat(small.typeFor("token_embd.weight", new long[] {64, 512})).isEqualTo(GgmlType.Q8_0);
        assertThat(small.typeFor("blk.2.attn_q.weight", new long[] {64, 64})).isEqualTo(GgmlType.Q5_0);
        // Overrides win.
        QuantPolicy keep = new QuantPolicy(TargetType.Q4_0, 32, 4, true, GgmlType.F16, GgmlType.Q8_0);
        assertThat(keep.typeFor("token_embd.weight", new long[] {4096, 128256})).isEqualTo(GgmlType.F16);
        assertThat(keep.typeFor("output.weight", new long[] {4096, 128256})).isEqualTo(GgmlType.Q8_0);
    }

    @Test
    void bitsandbytesTargetsKeepEmbeddingsAndOutputInF16() {
        QuantPolicy nf4 = new QuantPolicy(TargetType.NF4, 16, 4, true, null, null);
        assertThat(nf4.typeFor("token_embd.weight", new long[] {2048, 128256})).isEqualTo(GgmlType.F16);
        assertThat(nf4.typeFor("output.weight", new long[] {2048, 128256})).isEqualTo(GgmlType.F16);
        assertThat(nf4.typeFor("blk.3.ffn_up.weight", MATRIX)).isEqualTo(GgmlType.NF4);
        QuantPolicy int8 = new QuantPolicy(TargetType.INT8, 16, 4, false, null, null);
        assertThat(int8.typeFor("token_embd.weight", new long[] {2048, 128256})).isEqualTo(GgmlType.F16);
        assertThat(int8.typeFor("blk.3.ffn_down.weight", new long[] {172, 64})).isEqualTo(GgmlType.I8); // any width
        assertThat(int8.typeFor("blk.3.attn_norm.weight", new long[] {2048})).isEqualTo(GgmlType.F32);
    }

    @Test
    void parsesTypeNamesAsLlamaQuantizeDoes() {
        assertThat(TargetType.parse("q4_k")).isEqualTo(TargetType.Q4_K_M);
        assertThat(TargetType.parse("Q8_0")).isEqualTo(TargetType.Q8_0);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> TargetType.parse("q3_z"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown type 'q3_z'");
    }
}
