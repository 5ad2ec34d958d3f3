package io.panllm.cli.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.jline.reader.History;
import org.jline.reader.impl.history.DefaultHistory;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The REPL on a JLine terminal (an xterm over piped streams, keys as a user types them): the text
 * that reaches the conversation is what was typed.
 */
class ChatReplTest {

    /** Records the messages; replies "ok". */
    private static final class RecordingEngine implements ChatEngine {
        final List<String> messages = new ArrayList<>();

        @Override
        public ReplyStats reply(String userText, Consumer<String> onText, BooleanSupplier cancelled) {
            messages.add(userText);
            onText.accept("ok");
            return new ReplyStats(1, 1, 1, 1, "end of turn", 0);
        }

        @Override public void reset() { }
        @Override public void setSystemPrompt(String system) { }
        @Override public void set(String name, String value) { }
        @Override public String settings() { return ""; }
        @Override public String stats() { return ""; }
        @Override public String transcript() { return ""; }
        @Override public int contextUsed() { return 0; }
        @Override public int contextSize() { return 512; }
        @Override public String perplexity(Path file, int context, int chunks, Consumer<String> progress,
                                           BooleanSupplier cancelled) {
            return "";
        }
    }

    private record Session(List<String> messages, String screen) {
    }

    /** Types {@code keys} (\r is Enter) into the REPL, then Ctrl-D; the input stays open until the REPL ends. */
    private static Session type(String keys, Path history) throws Exception {
        RecordingEngine engine = new RecordingEngine();
        ByteArrayOutputStream screen = new ByteArrayOutputStream();
        PipedInputStream input = new PipedInputStream(1 << 16);
        try (PipedOutputStream keyboard = new PipedOutputStream(input);
             Terminal terminal = TerminalBuilder.builder().system(false).type("xterm")
                     .streams(input, screen).encoding(StandardCharsets.UTF_8).build()) {
            FutureTask<Integer> repl = new FutureTask<>(() -> new ChatRepl(engine).run(terminal, history));
            Thread thread = new Thread(repl, "repl");
            thread.setDaemon(true);
            thread.start();
            // A line at a time, each once the REPL waits for it (keys typed ahead of the prompt
            // would meet the terminal's cooked mode, which a person at the keyboard rarely does).
            String[] lines = (keys + "\u0004").split("(?<=\r)");
            for (int i = 0; i < lines.length; i++) {
                awaitPrompts(screen, i + 1, thread);
                keyboard.write(lines[i].getBytes(StandardCharsets.UTF_8));
                keyboard.flush();
            }
            try {
                assertThat(repl.get(30, TimeUnit.SECONDS)).isZero();
            } catch (java.util.concurrent.TimeoutException e) {
                System.err.println("SCREEN<<" + screen.toString(StandardCharsets.UTF_8).replace("\u001b", "ESC") + ">>");
                for (StackTraceElement el : thread.getStackTrace()) System.err.println("  " + el);
                throw e;
            }
        }
        return new Session(engine.messages, screen.toString(StandardCharsets.UTF_8));
    }

    /** Waits until the REPL has shown {@code count} prompts (each switches bracketed paste on). */
    private static void awaitPrompts(ByteArrayOutputStream screen, int count, Thread repl) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (screen.toString(StandardCharsets.UTF_8).split("\u001b\\[\\?2004h", -1).length - 1 < count
                && repl.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
    }

    @Test
    void textArrivesAsTyped(@TempDir Path dir) throws Exception {
        Path history = dir.resolve("history");
        Session s = type("C:\\Users\\me\rsay \\n and \\t\r!!\r!-1\rit's \"quoted\" and 'half\rtab\there\r", history);
        assertThat(s.messages()).containsExactly("C:\\Users\\me", "say \\n and \\t", "!!", "!-1",
                "it's \"quoted\" and 'half", "tab\there");

        // The history keeps the lines as typed, not expanded.
        try (Terminal terminal = TerminalBuilder.builder().system(false).type("xterm")
                .streams(new ByteArrayInputStream(new byte[0]), new ByteArrayOutputStream()).build()) {
            History saved = new DefaultHistory(ChatRepl.lineReader(terminal, history));
            List<String> lines = new ArrayList<>();
            for (History.Entry entry : saved) {
                lines.add(entry.line());
            }
            assertThat(lines).containsExactly("C:\\Users\\me", "say \\n and \\t", "!!", "!-1",
                    "it's \"quoted\" and 'half", "tab\there");
        }
    }

    @Test
    void trailingBackslashAndTripleQuoteBlocksMakeOneMessage(@TempDir Path dir) throws Exception {
        Session s = type("first \\\rsecond\r\"\"\"\rline one\rC:\\dir\\\r  indented\r\"\"\"\r\"\"\"inline\"\"\"\rlast\r",
                dir.resolve("history"));
        assertThat(s.messages()).containsExactly("first \nsecond", "line one\nC:\\dir\\\n  indented", "inline", "last");
    }

    @Test
    void bracketedPasteIsOneMessage(@TempDir Path dir) throws Exception {
        Session s = type("\u001b[200~pasted one\npasted \\two\u001b[201~\rafter\r", dir.resolve("history"));
        assertThat(s.messages()).containsExactly("pasted one\npasted \\two", "after");
    }

    @Test
    void helpShowsMultiLineInput(@TempDir Path dir) throws Exception {
        Session s = type("/help\r", dir.resolve("history"));
        assertThat(s.messages()).isEmpty();
        assertThat(s.screen()).contains("end a line with \\ to continue").contains("\"\"\"");
    }
}
