package io.panllm.tests;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a program as a user's shell would (own stdin, stdout and stderr) and waits for its exit status. */
final class Processes {
    record Result(int exitCode, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout:\n" + out + "\n--- stderr:\n" + err;
        }
    }

    private Processes() {
    }

    /**
     * @param stdin what the program reads (null: nothing, at once end of file)
     * @param env   variables added to the environment
     */
    static Result run(Path workDir, Path scratch, List<String> command, String stdin, Map<String, String> env, Duration timeout)
            throws IOException, InterruptedException {
        Process p = start(workDir, scratch, command, env);
        p.getOutputStream().write((stdin == null ? "" : stdin).getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        return finish(p, scratch, timeout);
    }

    /** Starts the program with stdout and stderr going to files in {@code scratch}. */
    static Process start(Path workDir, Path scratch, List<String> command, Map<String, String> env) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile())
                .redirectOutput(scratch.resolve("stdout").toFile()).redirectError(scratch.resolve("stderr").toFile());
        pb.environment().putAll(env);
        return pb.start();
    }

    static Result finish(Process p, Path scratch, Duration timeout) throws IOException, InterruptedException {
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError("no exit after " + timeout + ": " + p.info().commandLine().orElse("?")
                    + "\n" + stdout(scratch));
        }
        return new Result(p.exitValue(), stdout(scratch), Files.readString(scratch.resolve("stderr")));
    }

    static String stdout(Path scratch) throws IOException {
        return Files.readString(scratch.resolve("stdout"));
    }
}
