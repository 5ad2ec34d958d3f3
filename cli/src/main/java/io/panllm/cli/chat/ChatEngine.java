package io.panllm.cli.chat;

import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * What the REPL drives: a conversation kept in a model's KV cache. The REPL owns the terminal; the
 * engine owns the model, the template and the sampler.
 */
public interface ChatEngine {

    /** Figures of one reply; {@code turnsDropped}: the oldest turns dropped to make room for it. */
    record ReplyStats(int promptTokens, double promptMillis, int generatedTokens, double generationMillis,
                      String stopReason, int turnsDropped) {
        public double generationTokensPerSecond() {
            return generationMillis <= 0 ? 0 : generatedTokens * 1000.0 / generationMillis;
        }

        public double promptTokensPerSecond() {
            return promptMillis <= 0 ? 0 : promptTokens * 1000.0 / promptMillis;
        }
    }

    /**
     * Adds the user's turn, streams the reply's text to {@code onText} and returns when it ends
     * (end of turn, token limit, full context, or {@code cancelled} turning true: the partial reply
     * stays in the conversation).
     */
    ReplyStats reply(String userText, Consumer<String> onText, BooleanSupplier cancelled);

    /** Forgets the conversation (keeps the system prompt). */
    void reset();

    /** Replaces the system prompt (and resets). */
    void setSystemPrompt(String system);

    /** Changes a sampling setting ("temp", "top-k", "top-p", "min-p", "repeat-penalty", "seed", "n-predict"). */
    void set(String name, String value);

    /** Current sampling settings, one "name = value" per line. */
    String settings();

    /** Context used and size, token counts, speeds. */
    String stats();

    /** The conversation so far as text (for /save). */
    String transcript();

    /** Context positions used and available. */
    int contextUsed();

    int contextSize();

    /**
     * Runs a perplexity evaluation of the loaded model on a text file, reporting progress lines
     * to {@code progress}; returns the final line.
     */
    String perplexity(java.nio.file.Path file, int context, int chunks, Consumer<String> progress, BooleanSupplier cancelled)
            throws java.io.IOException;
}
