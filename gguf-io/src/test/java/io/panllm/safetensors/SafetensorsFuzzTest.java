package io.panllm.safetensors;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutates a valid file a few thousand ways (byte flips, header-length changes, truncation, JSON
 * character swaps): every case must either parse, with every tensor readable, or throw
 * {@link SafetensorsException}; nothing else, no OOM, no hang.
 */
class SafetensorsFuzzTest {
    @TempDir
    Path dir;

    @Test
    void mutatedFilesParseOrThrowTypedException() throws Exception {
        Path valid = SafetensorsRoundTripTest.writeSample(dir.resolve("valid.safetensors"));
        byte[] original = Files.readAllBytes(valid);
        SplittableRandom random = new SplittableRandom(42);
        Path mutant = dir.resolve("mutant.safetensors");
        int parsed = 0;
        int refused = 0;
        String interesting = "{}[]\":,0123456789-.eE ";
        for (int round = 0; round < 3000; round++) {
            byte[] bytes = original.clone();
            int mutations = 1 + random.nextInt(4);
            for (int m = 0; m < mutations; m++) {
                switch (random.nextInt(5)) {
                    case 0 -> bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
                    case 1 -> bytes[random.nextInt(8)] = (byte) random.nextInt(256);
                    case 2 -> bytes[8 + random.nextInt(Math.max(1, bytes.length - 8))] =
                            (byte) interesting.charAt(random.nextInt(interesting.length()));
                    case 3 -> bytes = java.util.Arrays.copyOf(bytes, random.nextInt(bytes.length + 1));
                    default -> bytes[8 + random.nextInt(Math.max(1, bytes.length - 8))] ^= (byte) (1 << random.nextInt(8));
                }
                if (bytes.length <= 8) {
                    break;
                }
            }
            Files.write(mutant, bytes);
            try (SafetensorsFile f = SafetensorsFile.open(mutant)) {
                for (SafetensorsTensor t : f.tensors().values()) {
                    if (t.dtype().isDecodable() && t.elementCount() < 1_000_000) {
                        t.toFloats();
                    }
                    assertThat(t.data().byteSize()).isEqualTo(t.elementCount() * t.dtype().size);
                }
                parsed++;
            } catch (SafetensorsException e) {
                assertThat(e.getMessage()).contains(mutant.toString());
                refused++;
            }
        }
        assertThat(parsed).isPositive();
        assertThat(refused).isPositive();
    }
}
