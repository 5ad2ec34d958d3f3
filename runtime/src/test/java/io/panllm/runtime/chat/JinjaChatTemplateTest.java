package io.panllm.runtime.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.panllm.gguf.GgufFile;
import io.panllm.runtime.chat.jinja.TemplateException;
import io.panllm.runtime.tokenizer.Tokenizer;
import io.panllm.runtime.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The model's own template behind the {@link ChatTemplate} interface that chat and serve use. */
class JinjaChatTemplateTest {
    private static final Path DATA = Path.of(System.getProperty("panllm.data", "../shared/data"));
    private static final List<ChatMessage> CONVERSATION = List.of(
            ChatMessage.system("You are terse."),
            ChatMessage.user("Hi"),
            ChatMessage.assistant("Hello."),
            ChatMessage.user("2+2?"));

    private static JinjaChatTemplate shipped(String name, String bos, String eos, List<String> specials) throws IOException {
        return new JinjaChatTemplate(Files.readString(DATA.resolve("chat-templates").resolve(name)), bos, eos, true, Map.of(), specials);
    }

    @Test
    void phi3GgufTemplateIsTheDefaultAndEndsTurnsWithItsEndToken() {
        Tokenizer phi3;
        try (GgufFile gguf = GgufFile.open(DATA.resolve("gguf/vocab/ggml-vocab-phi-3.gguf"))) {
            phi3 = Tokenizers.fromGguf(gguf.metadata());
        }
        ChatTemplate template = ChatTemplate.forVocabulary(phi3.vocabulary());
        assertThat(template.name()).isEqualTo("jinja");
        assertThat(template.render(CONVERSATION.subList(1, 4), true))
                .isEqualTo("<|user|>\nHi<|end|>\n<|assistant|>\nHello.<|end|>\n<|user|>\n2+2?<|end|>\n<|assistant|>\n");
        assertThat(template.endOfTurnTexts()).containsExactly("<|end|>", phi3.piece(phi3.vocabulary().special().eos()));
        assertThat(template.stopTokens(phi3)).contains(phi3.id("<|end|>"), phi3.vocabulary().special().eos());
    }

    @Test
    void leadingBosIsLeftToTheTokenizerWhenItAddsOne() throws IOException {
        JinjaChatTemplate mistral = shipped("mistralai-Mistral-Nemo-Instruct-2407.jinja", "<s>", "</s>", List.of("<s>", "</s>", "[INST]", "[/INST]"));
        assertThat(mistral.render(CONVERSATION.subList(1, 2), true)).isEqualTo("[INST]Hi[/INST]");
        assertThat(mistral.renderExactly(List.of(Map.of("role", "user", "content", "Hi")), true, Map.of()))
                .isEqualTo("<s>[INST]Hi[/INST]");
        assertThat(mistral.endOfTurnTexts()).containsExactly("</s>");
        JinjaChatTemplate keepsBos = new JinjaChatTemplate("{{ bos_token }}x", "<s>", "</s>", false, Map.of(), List.of());
        assertThat(keepsBos.render(List.of(), false)).isEqualTo("<s>x");
    }

    @Test
    void incrementalTurnsAddUpToTheWholeConversation() throws IOException {
        JinjaChatTemplate qwen = shipped("Qwen-Qwen2.5-7B-Instruct.jinja", "", "<|endoftext|>", List.of("<|im_start|>", "<|im_end|>", "<|endoftext|>"));
        JinjaChatTemplate llama = shipped("meta-llama-Llama-3.1-8B-Instruct.jinja", "<|begin_of_text|>", "<|eot_id|>",
                List.of("<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"));
        for (JinjaChatTemplate template : List.of(qwen, llama)) {
            String stop = template.endOfTurnTexts().getFirst();
            String fed = template.render(CONVERSATION.subList(0, 2), true) + "Hello." + stop
                    + template.renderNext(CONVERSATION.subList(0, 3), CONVERSATION.get(3));
            assertThat(fed).isEqualTo(template.render(CONVERSATION, true));
        }
        assertThat(qwen.endOfTurnTexts()).containsExactly("<|im_end|>", "<|endoftext|>");
    }

    @Test
    void extraVariablesReachTheTemplateAndItsErrorsAreTyped() throws IOException {
        JinjaChatTemplate qwen3 = shipped("Qwen-Qwen3-0.6B.jinja", "", "<|im_end|>", List.of("<|im_start|>", "<|im_end|>"));
        assertThat(qwen3.renderExactly(List.of(Map.of("role", "user", "content", "Hi")), true, Map.of("enable_thinking", false)))
                .endsWith("<|im_start|>assistant\n<think>\n\n</think>\n\n");
        JinjaChatTemplate gemma = shipped("google-gemma-2-2b-it.jinja", "<bos>", "<eos>", List.of("<start_of_turn>", "<end_of_turn>"));
        assertThat(gemma.endOfTurnTexts()).containsExactly("<end_of_turn>", "<eos>");
        assertThatThrownBy(() -> gemma.render(CONVERSATION, true)).isInstanceOf(TemplateException.class)
                .hasMessage("System role not supported");
    }
}
