package io.panllm.tests;

/** Lets tests in sub-packages run the CLI in-process ({@link Cli} is package-private). */
public final class CliAccess {
    private CliAccess() {
    }

    public record Result(int exitCode, String out, String err) {
    }

    public static Result run(String... args) {
        Cli.Result r = Cli.run(args);
        return new Result(r.exitCode(), r.out(), r.err());
    }
}
