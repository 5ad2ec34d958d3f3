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
}
