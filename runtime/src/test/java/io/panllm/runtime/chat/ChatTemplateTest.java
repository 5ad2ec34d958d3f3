package io.panllm.runtime.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.panllm.gguf.GgufFile;
import io.panllm.runtime.tokenizer.Tokenizer;
import io.panllm.runtime.tokenizer.Tokenizers;
import io.panllm.runtime.tokenizer.Vocabulary;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChatTemplateTest {
    private static final Path DATA = Path.of(System.getProperty("panllm.data", "../shared/data"));
    private static final List<ChatMessage> CONVERSATION = List.of(
            ChatMessage.system("You are terse."),
            ChatMessage.user(" Hi there! "),
            ChatMessage.assistant("Hello."),
            ChatMessage.user("2+2?"));

    private static String llama3Jinja() throws IOException {
        return new ObjectMapper().readTree(DATA.resolve("tokenizers/llama3/tokenizer_config.json").toFile())
                .path("chat_template").asText();
    }

    private static String ggufChatTemplate(String file) {
        try (GgufFile gguf = GgufFile.open(DATA.resolve(file))) {
            return gguf.metadata().getString("tokenizer.chat_template", null);
        }
    }

    /**
     * Expected texts: the Jinja templates rendered by Python's jinja2 (Llama 3: the model's own
     * template from tokenizer_config.json, which always adds the BOS and the assistant header;
     * Llama 2: Meta's llama-2-chat template; ChatML: the usual one).
     */
    @Test
    void rendersAsTheJinjaTemplates() {
        assertThat("<|begin_of_text|>" + ChatTemplate.forName("llama3").render(CONVERSATION, true)).isEqualTo(
                "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n");
        assertThat("<s>" + ChatTemplate.forName("llama2").render(CONVERSATION, true)).isEqualTo(
                "<s>[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\n Hi there! [/INST] Hello. </s><s>[INST] 2+2? [/INST]");
        assertThat(ChatTemplate.forName("chatml").render(CONVERSATION, true)).isEqualTo(
                "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\n Hi there! <|im_end|>\n"
                        + "<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n");
        assertThat(ChatTemplate.forName("ChatML").render(CONVERSATION.subList(0, 2), false))
                .isEqualTo("<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\n Hi there! <|im_end|>\n");
    }

    @Test
    void detectsTemplatesByTheirMarkers() throws IOException {
        assertThat(ChatTemplate.detect(llama3Jinja())).map(ChatTemplate::name).contains("llama3");
        assertThat(ChatTemplate.detect("{% for m in messages %}{{ bos_token + '[INST] ' + m['content'] + ' [/INST]' }}{% endfor %}"))
                .map(ChatTemplate::name).contains("llama2");
        assertThat(ChatTemplate.detect("{{'<|im_start|>' + message['role'] + '\\n'}}")).map(ChatTemplate::name).contains("chatml");
        String phi3 = ggufChatTemplate("gguf/vocab/ggml-vocab-phi-3.gguf");
        assertThat(phi3).contains("<|user|>");
        assertThat(ChatTemplate.detect(phi3)).isEmpty();
        assertThat(ChatTemplate.detect(null)).isEmpty();
    }

    @Test
    void unknownNamesAndTemplatesAreTypedErrors() {
        assertThatThrownBy(() -> ChatTemplate.forName("vicuna")).isInstanceOf(UnknownChatTemplateException.class)
                .hasMessageContaining("'vicuna'").hasMessageContaining("llama3, llama2, chatml");
        assertThatThrownBy(() -> ChatTemplate.forName("llama2").render(List.of(new ChatMessage("tool", "x")), true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'tool'");
    }

    @Test
    void chosenForAVocabulary() {
        Tokenizer llama3 = Tokenizers.fromHfJson(DATA.resolve("tokenizers/llama3/tokenizer.json"));
        // the model's own template where it ships one
        assertThat(ChatTemplate.forVocabulary(llama3.vocabulary()).name()).isEqualTo("jinja");
        Tokenizer stories = Tokenizers.fromLlama2c(DATA.resolve("llama2c/tok512.bin"));
        assertThat(ChatTemplate.forVocabulary(stories.vocabulary()).name()).isEqualTo("llama2");

        ChatTemplate template = ChatTemplate.forVocabulary(llama3.vocabulary());
        assertThat(template.stopTokens(llama3)).containsExactlyInAnyOrder(128_001, 128_009);
        int[] prompt = llama3.encode(template.render(CONVERSATION.subList(0, 2), true), llama3.vocabulary().addBos(), true);
        assertThat(prompt).startsWith(128_000, 128_006, 9125, 128_007); // 9125 = "system"
        assertThat(llama3.piece(9125)).isEqualTo("system");
        assertThat(prompt).endsWith(128_006, 78_191, 128_007, 271); // assistant header, "\n\n"
        assertThat(llama3.piece(78_191)).isEqualTo("assistant");
    }

    /**
     * A chat keeps the conversation in the KV cache: it feeds the first prompt, the reply and the
     * token that stopped it, then only renderNext(...) per new turn. What it fed must be the
     * whole conversation rendered at once.
     */
    @Test
    void incrementalTurnsAddUpToTheWholeConversation() {
        List<ChatMessage> firstTurn = CONVERSATION.subList(0, 2);
        List<ChatMessage> history = CONVERSATION.subList(0, 3);
        ChatMessage next = CONVERSATION.get(3);
        for (String name : List.of("llama3", "chatml")) {
            ChatTemplate template = ChatTemplate.forName(name);
            String stop = template.endOfTurnTexts().getFirst();
            String fed = template.render(firstTurn, true) + "Hello." + stop + template.renderNext(history, next);
            assertThat(fed).as(name).isEqualTo(template.render(CONVERSATION, true));
        }
        assertThat(ChatTemplate.forName("chatml").renderNext(history, next)).startsWith("\n<|im_start|>user\n");
        assertThat(ChatTemplate.forName("llama2").renderNext(history, next)).isEqualTo("<s>[INST] 2+2? [/INST]");
        assertThat(ChatTemplate.forName("llama3").renderNext(List.of(), ChatMessage.user("Hi")))
                .isEqualTo("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
        // after a system prompt fed on its own
        assertThat(ChatTemplate.forName("llama3").renderNext(List.of(ChatMessage.system("S")), ChatMessage.user("Hi")))
                .isEqualTo("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
    }
}
