package io.panllm.runtime.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** llama.cpp's vocab files against its own test vectors (test-tokenizer-0): every case, exactly. */
class LlamaCppVectorsTest {

    record Case(String text, int[] expected) {
    }

    /**
     * llama.cpp's test-tokenizer-0 format: the .inp file holds the inputs, each followed by the
     * line "__ggml_vocab_test__"; the .out file holds one line of space-separated ids per input.
     * The cases are encoded as test-tokenizer-0 does: no BOS, no special-token parsing.
     */
    static List<Case> cases(String vocab) throws IOException {
        String inp = Files.readString(TestFiles.file(vocab + ".inp"), StandardCharsets.UTF_8);
        List<String> out = Files.readAllLines(TestFiles.file(vocab + ".out"), StandardCharsets.UTF_8);
        String separator = "\n__ggml_vocab_test__\n";
        List<String> inputs = new ArrayList<>();
        int pos = 0;
        for (int next; (next = inp.indexOf(separator, pos)) >= 0; pos = next + separator.length()) {
            inputs.add(inp.substring(pos, next));
        }
        assertThat(inputs).hasSize(out.size());
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            String line = out.get(i).strip();
            int[] ids = line.isEmpty() ? new int[0] : Arrays.stream(line.split(" +")).mapToInt(Integer::parseInt).toArray();
            cases.add(new Case(inputs.get(i), ids));
        }
        return cases;
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-spm", "phi-3", "gpt-2"})
    void everyVectorMatches(String name) throws IOException {
        String vocab = "gguf/vocab/ggml-vocab-" + name + ".gguf";
        Tokenizer tokenizer = TestFiles.ggufTokenizer(vocab);
        List<Case> cases = cases(vocab);
        assertThat(cases).hasSizeGreaterThan(40);
        List<String> failures = new ArrayList<>();
        for (Case c : cases) {
            int[] got = tokenizer.encode(c.text(), false, false);
            if (!Arrays.equals(got, c.expected())) {
                failures.add(quoted(c.text()) + ": expected " + Arrays.toString(c.expected()) + " got " + Arrays.toString(got));
            }
        }
        assertThat(failures).as(name).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-spm", "phi-3", "gpt-2"})
    void everyVectorDecodesBackToItsText(String name) throws IOException {
        String vocab = "gguf/vocab/ggml-vocab-" + name + ".gguf";
        Tokenizer tokenizer = TestFiles.ggufTokenizer(vocab);
        for (Case c : cases(vocab)) {
            assertThat(tokenizer.decode(c.expected())).as("decode %s", quoted(c.text())).isEqualTo(c.text());
        }
    }

    static String quoted(String s) {
        StringBuilder b = new StringBuilder("\"");
        s.codePoints().forEach(cp -> b.append(cp < 0x20 ? String.format("\\x%02x", cp) : Character.toString(cp)));
        return b.append('"').toString();
    }
}
