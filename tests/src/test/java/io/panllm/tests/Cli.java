package io.panllm.tests;

import io.panllm.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Runs the panllm CLI in-process and captures what it prints. */
final class Cli {
    record Result(int exitCode, String out, String err) {
    }

    private Cli() {
    }

    static synchronized Result run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.run(args);
            System.out.flush();
            System.err.flush();
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    static Path data(String relative) {
        return Path.of(System.getProperty("panllm.data")).resolve(relative);
    }

    static Path home(String relative) {
        return Path.of(System.getProperty("panllm.home")).resolve(relative);
    }
}
