package io.panllm.runtime.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.panllm.runtime.generate.GenerationResult;
import io.panllm.runtime.generate.SamplerConfig;
import io.panllm.runtime.generate.StopReason;
import io.panllm.runtime.generate.TokenListener;
import io.panllm.runtime.testing.FakeModel;
import io.panllm.runtime.tokenizer.Tokenizer;
import io.panllm.runtime.tokenizer.Tokenizers;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** A conversation longer than the context keeps going: the oldest turns go, the system prompt stays. */
class ConversationContextTest {

    private static final Path TOK512 = Path.of(System.getProperty("panllm.data", "../shared/data"), "llama2c/tok512.bin");
    private static final String SYSTEM = "You are a storyteller.";

    /**
     * The stories260K vocabulary; the model says "Once" three times, then ends its turn; eighty
     * times when the sequence holds the word "forever".
     */
    private static Conversation conversation(FakeModel[] model, int contextSize) {
        Tokenizer tokenizer = Tokenizers.fromLlama2c(TOK512);
        int once = tokenizer.encode("Once", false, false)[0];
        int[] forever = tokenizer.encode("forever", false, false);
        int eos = tokenizer.eos();
        model[0] = new FakeModel(512, sequence -> {
            int length = Arrays.stream(sequence).anyMatch(t -> t == forever[forever.length - 1]) ? 80 : 3;
            int said = 0;
            while (said < sequence.length && sequence[sequence.length - 1 - said] == once) {
                said++;
            }
            float[] logits = new float[512];
            logits[said >= length ? eos : once] = 10;
            return logits;
        });
        Conversation c = new Conversation(model[0], tokenizer, new Llama2ChatTemplate(), contextSize, SamplerConfig.greedy(),
                SYSTEM);
        c.setMaxTokens(8);
        return c;
    }

    @Test
    void oldestTurnsAreDroppedAndTheSystemPromptStays() {
        FakeModel[] model = new FakeModel[1];
        try (Conversation c = conversation(model, 96)) {
            for (int i = 0; i < 12; i++) {
                c.reply("Tell me story number " + i + " about a cat and a dog.", TokenListener.NONE, () -> false);
                assertThat(c.contextUsed()).isLessThan(96);
            }
            assertThat(c.turnsDropped()).isPositive();
            assertThat(c.history().getFirst()).isEqualTo(ChatMessage.system(SYSTEM));
            assertThat(c.history()).noneMatch(m -> m.content().contains("number 0 "));
            assertThat(c.history().getLast().content()).isEqualTo(" Once Once Once");
            assertThat(c.history().get(c.history().size() - 2).content()).contains("number 11 ");

            // The cache was rebuilt from the start: system prompt first, then the kept turns, then the new message.
            int restart = model[0].batchPositions.lastIndexOf(0);
            assertThat(restart).isPositive();
            String rebuilt = c.tokenizer().decode(model[0].batches.get(restart));
            assertThat(rebuilt).contains(SYSTEM);
            assertThat(rebuilt.indexOf(SYSTEM)).isLessThan(rebuilt.indexOf("Tell me story"));
        }
    }

    @Test
    void aMessageLongerThanTheContextIsRefusedWithItsSize() {
        FakeModel[] model = new FakeModel[1];
        try (Conversation c = conversation(model, 64)) {
            c.reply("Hello there.", TokenListener.NONE, () -> false);
            int before = c.history().size();
            int used = c.contextUsed();
            String longMessage = "The cat sat on the mat and looked at the dog. ".repeat(8);
            assertThatThrownBy(() -> c.reply(longMessage, TokenListener.NONE, () -> false))
                    .isInstanceOf(MessageTooLongException.class)
                    .hasMessageContaining("the context holds 64")
                    .hasMessageContaining("larger -c")
                    .hasMessageMatching("this message is \\d+ tokens .*");
            // Nothing changed: the conversation goes on where it was.
            assertThat(c.history()).hasSize(before);
            assertThat(c.contextUsed()).isEqualTo(used);
        }
    }

    @Test
    void aReplyThatFillsTheContextGoesOnWithOlderTurnsDropped() {
        FakeModel[] model = new FakeModel[1];
        try (Conversation c = conversation(model, 160)) {
            c.setMaxTokens(-1);
            c.reply("Tell me story number 1.", TokenListener.NONE, () -> false);
            c.reply("Tell me story number 2.", TokenListener.NONE, () -> false);
            assertThat(c.turnsDropped()).isZero();
            StringBuilder streamed = new StringBuilder();
            GenerationResult r = c.reply("Tell me a story forever.", (token, piece) -> streamed.append(piece), () -> false);
            assertThat(r.reason()).isEqualTo(StopReason.STOP_TOKEN);
            assertThat(r.text()).isEqualTo(" Once".repeat(80));
            assertThat(streamed.toString()).isEqualTo(r.text());
            assertThat(c.turnsDropped()).isPositive();
            assertThat(c.history().getFirst()).isEqualTo(ChatMessage.system(SYSTEM));
            // The conversation goes on after it.
            GenerationResult next = c.reply("And now a short one.", TokenListener.NONE, () -> false);
            assertThat(next.text()).isEqualTo(" Once Once Once");
        }
    }
}
