package io.panllm.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every GGUF written by llama.cpp tooling in ../shared/data reads and writes back byte for byte. */
class GgufRoundTripTest {

    static Stream<Path> llamaCppFiles() throws IOException {
        try (Stream<Path> s = Files.walk(TestData.file("gguf"))) {
            return s.filter(p -> p.toString().endsWith(".gguf")).sorted().toList().stream();
        }
    }

    @ParameterizedTest
    @MethodSource("llamaCppFiles")
    void readWriteReadIsByteIdentical(Path original, @TempDir Path tmp) throws IOException {
        Path copy = tmp.resolve("copy.gguf");
        try (GgufFile in = GgufFile.open(original)) {
            GgufWriter w = new GgufWriter().putAll(in.metadata());
            in.tensors().forEach(t -> w.addTensor(in, t));
            w.write(copy, null);
        }
        assertThat(Files.mismatch(original, copy)).as("first differing byte").isEqualTo(-1L);
        assertThat(tmp.toFile().list()).containsExactly("copy.gguf");
    }
}
