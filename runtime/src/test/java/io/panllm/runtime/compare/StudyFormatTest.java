package io.panllm.runtime.compare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.panllm.runtime.convert.TargetType;
import java.util.List;
import org.junit.jupiter.api.Test;

class StudyFormatTest {

    @Test
    void parsesConvertTypesAndInt8() {
        List<StudyFormat> formats = StudyFormat.parseList("f16, Q8_0,q4_k,nf4,int8");
        assertThat(formats).extracting(StudyFormat::label).containsExactly("f16", "q8_0", "q4_k_m", "nf4", "int8");
        assertThat(formats.get(2).target()).isEqualTo(TargetType.Q4_K_M);
        StudyFormat int8 = formats.get(4);
        assertThat(int8.target()).isEqualTo(TargetType.INT8);
        assertThat(StudyFormat.parse("llm.int8").target()).isEqualTo(TargetType.INT8);
    }

    @Test
    void refusesDuplicatesUnknownAndEmptyLists() {
        assertThatThrownBy(() -> StudyFormat.parseList("q4_k,q4_k_m")).hasMessageContaining("q4_k_m").hasMessageContaining("twice");
        assertThatThrownBy(() -> StudyFormat.parseList("q4_0,q3_x")).hasMessageContaining("q3_x");
        assertThatThrownBy(() -> StudyFormat.parseList(" , ")).hasMessageContaining("no types");
    }

    @Test
    void theBaseIsTheRunnableTypeWithTheMostBitsFirstOfEquals() {
        assertThat(StudyFormat.highestPrecision(StudyFormat.parseList("q4_0,q8_0,int8,f16,bf16")).label()).isEqualTo("f16");
        assertThat(StudyFormat.highestPrecision(StudyFormat.parseList("nf4,q4_0,q8_0")).label()).isEqualTo("q8_0");
        assertThat(StudyFormat.highestPrecision(StudyFormat.parseList("f32,f16")).label()).isEqualTo("f32");
        assertThat(StudyFormat.highestPrecision(StudyFormat.parseList("int8,nf4")).label()).isEqualTo("int8");
        assertThat(StudyFormat.highestPrecision(StudyFormat.parseList("int8,q8_0")).label()).isEqualTo("q8_0");
    }

    @Test
    void linearLayersAreTheBlockProjections() {
        assertThat(ModelFileStats.isLinear("blk.0.attn_q.weight")).isTrue();
        assertThat(ModelFileStats.isLinear("blk.11.ffn_down.weight")).isTrue();
        assertThat(ModelFileStats.isLinear("blk.3.attn_output.weight")).isTrue();
        assertThat(ModelFileStats.isLinear("blk.0.attn_norm.weight")).isFalse();
        assertThat(ModelFileStats.isLinear("token_embd.weight")).isFalse();
        assertThat(ModelFileStats.isLinear("output.weight")).isFalse();
    }
}
