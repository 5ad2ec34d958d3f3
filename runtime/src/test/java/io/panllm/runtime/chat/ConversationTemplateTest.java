package io.panllm.runtime.chat;

import static org.assertj.core.api.Assertions.assertThat;

import io.panllm.runtime.LoadedModel;
import io.panllm.runtime.generate.GenerationResult;
import io.panllm.runtime.generate.SamplerConfig;
import io.panllm.runtime.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A chat over a model's own template: extended in the KV cache when the template allows, evaluated again when not. */
class ConversationTemplateTest {
    private static final Path DATA = Path.of(System.getProperty("panllm.data", "../shared/data"), "llama2c");
    private static LoadedModel stories;

    @BeforeAll
    static void load() {
        stories = LoadedModel.openLlama2c(DATA.resolve("stories260K_q80.bin"), DATA.resolve("tok512.bin"), LoadedModel.Device.CPU, 1);
    }

    @AfterAll
    static void close() {
        stories.close();
    }

    private static JinjaChatTemplate template(String source) {
        return new JinjaChatTemplate(source, "", "", true, Map.of(), List.of());
    }

    private static int fullPromptTokens(Tokenizer tokenizer, ChatTemplate template, List<ChatMessage> messages) {
        return tokenizer.encode(template.render(messages, true), true, true).length;
    }

    @Test
    void incrementalTemplateFeedsOnlyTheNewTurn() {
        ChatTemplate template = template("{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}"
                + "{% if add_generation_prompt %}assistant:{% endif %}");
        SecondTurn turn = secondTurn(template);
        assertThat(turn.fed()).isLessThan(turn.whole());
    }

    /** A template that numbers the conversation renders every turn anew: the whole chat is evaluated again. */
    @Test
    void nonIncrementalTemplateEvaluatesTheWholeChatAgain() {
        ChatTemplate template = template("[{{ messages | length }}]{% for m in messages %} {{ m.content }}{% endfor %}"
                + "{% if add_generation_prompt %} >{% endif %}");
        SecondTurn turn = secondTurn(template);
        assertThat(turn.fed()).isEqualTo(turn.whole());
    }

    /** Tokens fed for the second turn, and tokens of the whole conversation up to it rendered at once. */
    private record SecondTurn(int fed, int whole) {
    }

    private static SecondTurn secondTurn(ChatTemplate template) {
        Tokenizer tokenizer = stories.tokenizer();
        try (Conversation chat = new Conversation(stories.model(), tokenizer, template, 256, SamplerConfig.greedy(), null)) {
            chat.setMaxTokens(4);
            GenerationResult first = chat.reply("Once upon a time", (token, piece) -> { }, () -> false);
            assertThat(first.generatedTokens()).isEqualTo(4);
            GenerationResult second = chat.reply("Lily was happy", (token, piece) -> { }, () -> false);
            assertThat(second.generatedTokens()).isEqualTo(4);
            List<ChatMessage> asked = new ArrayList<>(chat.history().subList(0, 2));
            asked.add(ChatMessage.user("Lily was happy"));
            int whole = fullPromptTokens(tokenizer, template, asked);
            // the cache holds the conversation: what was fed and generated, nothing twice
            assertThat(chat.contextUsed()).isLessThanOrEqualTo(whole + 4);
            return new SecondTurn(second.promptTokens(), whole);
        }
    }
}
