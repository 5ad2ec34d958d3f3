package io.panllm.runtime.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** tokenizer.json variants the Llama 3 file does not exercise. */
class HfTokenizerJsonTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A GPT-2 style file: the 256 byte tokens, merges as [a, b] pairs, one special added token. */
    private static ObjectNode gpt2Style() {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        ObjectNode vocab = model.putObject("vocab");
        for (int b = 0; b < 256; b++) {
            vocab.put(String.valueOf(ByteLevel.charOf(b)), b);
        }
        String[][] merges = {{"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {"\u0120", "hello"}};
        ArrayNode mergeList = model.putArray("merges");
        int id = 256;
        for (String[] m : merges) {
            mergeList.addArray().add(m[0]).add(m[1]);
            vocab.put(m[0] + m[1], id++);
        }
        ArrayNode added = root.putArray("added_tokens");
        added.addObject().put("id", 300).put("content", "<|endoftext|>").put("special", true);
        added.addObject().put("id", 301).put("content", "<tool>").put("special", false);
        root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false);
        return root;
    }

    private static Path write(Path dir, ObjectNode root) throws IOException {
        Path file = dir.resolve("tokenizer.json");
        JSON.writeValue(file.toFile(), root);
        return file;
    }

    @Test
    void pairMergesGpt2RegexAndAddedTokens(@TempDir Path dir) throws IOException {
        Tokenizer tokenizer = Tokenizers.fromHfJson(write(dir, gpt2Style()));
        assertThat(tokenizer.vocabulary().preTokenizer()).isEqualTo("gpt-2");
        assertThat(tokenizer.vocabSize()).isEqualTo(302);
        assertThat(tokenizer.type(299)).isEqualTo(TokenType.UNUSED); // no entry names 261..299
        assertThat(tokenizer.piece(299)).isEqualTo("[PAD299]");
        assertThat(tokenizer.encode("hello hello", false, false)).containsExactly(259, 260);
        assertThat(tokenizer.piece(260)).isEqualTo("\u0120hello");
        // user-defined (non-special) added tokens are matched always, control ones only when asked
        assertThat(tokenizer.encode("hello<tool>", false, false)).containsExactly(259, 301);
        assertThat(tokenizer.encode("<|endoftext|>", false, true)).containsExactly(300);
        assertThat(tokenizer.encode("<|endoftext|>", false, false)).doesNotContain(300);
        assertThat(tokenizer.stopTokens()).containsExactly(300);
        assertThat(tokenizer.bos()).isEqualTo(SpecialTokens.NONE); // no tokenizer_config.json
        assertThat(tokenizer.decode(tokenizer.encode("hello <tool> wörld", false, false))).isEqualTo("hello <tool> wörld");
    }

    @Test
    void configGivesSpecialTokensAndTemplate(@TempDir Path dir) throws IOException {
        Path file = write(dir, gpt2Style());
        ObjectNode config = JSON.createObjectNode();
        config.putObject("bos_token").put("content", "<|endoftext|>");
        config.put("eos_token", "<|endoftext|>");
        config.put("add_bos_token", true);
        config.putArray("chat_template").addObject().put("name", "default").put("template", "{{'<|im_start|>'}}");
        JSON.writeValue(dir.resolve("tokenizer_config.json").toFile(), config);
        Tokenizer tokenizer = Tokenizers.fromHfJson(file);
        assertThat(tokenizer.bos()).isEqualTo(300);
        assertThat(tokenizer.eos()).isEqualTo(300);
        assertThat(tokenizer.vocabulary().addBos()).isTrue();
        assertThat(tokenizer.vocabulary().chatTemplate()).isEqualTo("{{'<|im_start|>'}}");
        assertThat(tokenizer.encode("hello", true, false)).containsExactly(300, 259);
    }

    /** An added token's lstrip/rstrip take the white space beside it along; chat_template.jinja is the template where the config has none. */
    @Test
    void addedTokenStripAndTemplateFile(@TempDir Path dir) throws IOException {
        ObjectNode root = gpt2Style();
        ((ObjectNode) root.path("added_tokens").get(1)).put("lstrip", true).put("rstrip", true);
        Path file = write(dir, root);
        Files.writeString(dir.resolve("chat_template.jinja"), "{{ messages[0].content }}");
        Tokenizer tokenizer = Tokenizers.fromHfJson(file);
        assertThat(tokenizer.encode("hello <tool> hello", false, false)).containsExactly(259, 301, 259);
        assertThat(tokenizer.vocabulary().chatTemplate()).isEqualTo("{{ messages[0].content }}");
        Tokenizer plain = Tokenizers.fromHfJson(write(dir, gpt2Style()));
        assertThat(plain.encode("hello <tool> hello", false, false)).containsExactly(259, 32, 301, 260); // 32: the space byte
    }

    @Test
    void unsupportedFilesAreNamed(@TempDir Path dir) throws IOException {
        ObjectNode unigram = gpt2Style();
        ((ObjectNode) unigram.get("model")).put("type", "Unigram");
        Path file = write(dir, unigram);
        assertThatThrownBy(() -> Tokenizers.fromHfJson(file)).isInstanceOf(UnsupportedTokenizerException.class)
                .hasMessageContaining("'Unigram'").hasMessageContaining("tokenizer.json");

        ObjectNode otherRegex = gpt2Style();
        ObjectNode sequence = otherRegex.putObject("pre_tokenizer").put("type", "Sequence");
        sequence.putArray("pretokenizers").addObject().put("type", "Split").putObject("pattern").put("Regex", "\\d+");
        ((ArrayNode) sequence.get("pretokenizers")).addObject().put("type", "ByteLevel").put("use_regex", false);
        Path file2 = write(dir, otherRegex);
        assertThatThrownBy(() -> Tokenizers.fromHfJson(file2)).isInstanceOf(UnsupportedTokenizerException.class)
                .hasMessageContaining("\\d+");

        ObjectNode badId = gpt2Style();
        ((ObjectNode) badId.get("model").get("vocab")).put("x", -5);
        Path file3 = write(dir, badId);
        assertThatThrownBy(() -> Tokenizers.fromHfJson(file3)).isInstanceOf(TokenizerException.class).hasMessageContaining("-5");

        Files.writeString(dir.resolve("broken.json"), "{\"model\": {");
        assertThatThrownBy(() -> Tokenizers.fromHfJson(dir.resolve("broken.json"))).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("broken.json");
    }
}
