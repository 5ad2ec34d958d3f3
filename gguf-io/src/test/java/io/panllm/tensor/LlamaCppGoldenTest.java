package io.panllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Byte-exactness against llama.cpp: quantizing the reference input must give exactly the bytes that
 * llama.cpp's reference quantizers gave, and dequantizing them exactly its floats. The data and how it
 * was made are described in resources io/panllm/tensor/llamacpp-golden/README.md.
 */
class LlamaCppGoldenTest {
    private static final String DIR = "llamacpp-golden/";
    private static final float[] INPUT = CodecTestSupport.floatsOf(CodecTestSupport.resource(DIR + "input.f32"));

    @ParameterizedTest
    @ValueSource(strings = {"F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K", "Q8_K",
        "IQ4_NL"})
    void quantizeGivesLlamaCppBytes(String typeName) {
        GgmlType type = GgmlType.valueOf(typeName);
        byte[] expected = CodecTestSupport.resource(DIR + typeName.toLowerCase() + ".bin");

        byte[] actual = CodecTestSupport.quantize(type, INPUT);

        int diff = CodecTestSupport.firstDifference(actual, expected);
        assertThat(diff)
                .as("%s: first differing byte %d (block %d)", type, diff, diff < 0 ? -1 : diff / type.bytesPerBlock)
                .isEqualTo(-1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K", "Q8_K",
        "IQ4_NL"})
    void dequantizeGivesLlamaCppFloats(String typeName) throws NoSuchAlgorithmException {
        GgmlType type = GgmlType.valueOf(typeName);
        byte[] blocks = CodecTestSupport.resource(DIR + typeName.toLowerCase() + ".bin");

        float[] decoded = CodecTestSupport.dequantize(type, blocks, INPUT.length);

        byte[] digest = MessageDigest.getInstance("SHA-256").digest(CodecTestSupport.bytesOf(decoded));
        assertThat(HexFormat.of().formatHex(digest)).isEqualTo(expectedDigests().get(typeName.toLowerCase()));
    }

    private static Map<String, String> expectedDigests() {
        Map<String, String> digests = new TreeMap<>();
        String text = new String(CodecTestSupport.resource(DIR + "dequantized.sha256"), StandardCharsets.US_ASCII);
        for (String line : text.split("\n")) {
            if (!line.isBlank()) {
                String[] parts = line.trim().split("\\s+");
                digests.put(parts[1], parts[0]);
            }
        }
        return digests;
    }
}
