package io.panllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class LittleEndianTest {

    @Test
    void readsAndWritesLeastSignificantByteFirstAtAnyOffset() {
        byte[] bytes = {0x7F, 0x00, 0x3C, 0x00, 0x00, (byte) 0x80, 0x3F, 0x00, 0x00, 0x00, (byte) 0xC0};
        MemorySegment segment = MemorySegment.ofArray(bytes);
        assertThat(LittleEndian.getFp16(segment, 1)).isEqualTo(1.0f); // unaligned: bytes 1..2 = 0x3C00
        assertThat(segment.get(LittleEndian.FLOAT, 3)).isEqualTo(1.0f); // bytes 3..6 = 0x3F800000
        assertThat(LittleEndian.getFloats(segment.asSlice(7), 1)).containsExactly(-2.0f); // 0xC0000000

        LittleEndian.setFp16(segment, 9, 0.5f); // 0x3800
        assertThat(bytes[9]).isEqualTo((byte) 0x00);
        assertThat(bytes[10]).isEqualTo((byte) 0x38);
    }
}
