package io.panllm.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The chat REPL driven through a pipe: one message per line, replies only, slash commands work. */
class ChatPipeTest {

    private static Cli.Result chat(String input, String... args) {
        InputStream old = System.in;
        try {
            System.setIn(new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)));
            String[] all = new String[args.length + 1];
            all[0] = "chat";
            System.arraycopy(args, 0, all, 1, args.length);
            return Cli.run(all);
        } finally {
            System.setIn(old);
        }
    }

    @Test
    void conversationStaysInTheCacheAndCommandsWork(@TempDir Path dir) throws Exception {
        Path transcript = dir.resolve("t.txt");
        Cli.Result r = chat("Hello\n/stats\nTell me more\n/save " + transcript + "\n/reset\n/stats\n/exit\nnever read\n",
                "--temp", "0", "-n", "12");
        assertThat(r.exitCode()).as(r.err()).isZero();
        String out = r.out();
        // The second turn only adds to the cache: the context used grows across turns and /reset clears it.
        assertThat(out).contains("context: ").contains("[conversation cleared]").contains("context: 0 / 512 tokens used");
        assertThat(out).doesNotContain("never read");
        String saved = Files.readString(transcript);
        assertThat(saved).contains("user: Hello").contains("user: Tell me more").contains("assistant: ");
    }

    @Test
    void multiLineInputAndUnknownCommand() {
        Cli.Result r = chat("first line \\\nsecond line\n/bogus\n/set temp abc\n", "--temp", "0", "-n", "5");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("unknown command /bogus").contains("error: 'abc' is not a number");
    }

    @Test
    void contextFullIsReportedNotFatal() {
        Cli.Result r = chat("Once upon a time there was a little dog\nand then\nand then again\n", "--temp", "0", "-c", "40", "-n", "-1");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("context full");
    }

    @Test
    void pipedTextArrivesAsTypedWithTheSameContinuationRules(@TempDir Path dir) throws Exception {
        Path transcript = dir.resolve("t.txt");
        Cli.Result r = chat("C:\\Users\\me !! !-1 \\n\n\"\"\"\nline one \\\nline two\n\"\"\"\nfirst \\\nsecond\n/save " + transcript + "\n",
                "--temp", "0", "-n", "4");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(Files.readString(transcript))
                .contains("user: C:\\Users\\me !! !-1 \\n\n")
                .contains("user: line one \\\nline two\n")
                .contains("user: first \nsecond\n");
    }

    @Test
    void aFullContextDropsTheOldestTurnsAndKeepsTheSystemPrompt(@TempDir Path dir) throws Exception {
        Path transcript = dir.resolve("t.txt");
        StringBuilder input = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            input.append("Tell me story number ").append(i).append(" about a cat.\n");
        }
        input.append("/save ").append(transcript).append('\n');
        Cli.Result r = chat(input.toString(), "--temp", "0", "-n", "8", "-c", "96", "--system", "You tell stories.");
        assertThat(r.exitCode()).as(r.err()).isZero();
        String notice = "the oldest turns were dropped";
        assertThat(r.out()).contains(notice);
        assertThat(r.out().indexOf(notice)).as("told once").isEqualTo(r.out().lastIndexOf(notice));
        assertThat(r.out()).doesNotContain("error");
        String saved = Files.readString(transcript);
        assertThat(saved).startsWith("system: You tell stories.").contains("user: Tell me story number 7 about a cat.")
                .doesNotContain("number 0 ");
    }

    @Test
    void aMessageLongerThanTheContextSaysHowLong() {
        Cli.Result r = chat("Once upon a time there was a cat. ".repeat(12) + "\nHello\n", "--temp", "0", "-n", "4", "-c", "48");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).containsPattern("error: this message is \\d+ tokens .*the context holds 48: start chat with a larger -c");
        assertThat(r.out()).doesNotContain("0/48");
    }
}
