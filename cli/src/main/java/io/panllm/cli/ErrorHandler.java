package io.panllm.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import picocli.CommandLine;

/**
 * Turns an exception from a command into one line on stderr and an exit code. Set
 * PANLLM_DEBUG=1 to see the stack trace.
 */
final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {

    @Override
    public int handleExecutionException(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
        if (System.getenv("PANLLM_DEBUG") != null) {
            e.printStackTrace();
        }
        cli.getErr().println("panllm " + cli.getCommandName() + ": error: " + describe(e));
        return exitCode(e);
    }

    static String describe(Throwable e) {
        Throwable t = e instanceof UncheckedIOException u ? u.getCause() : e;
        if (t instanceof NoSuchFileException n) {
            return n.getFile() + ": no such file";
        }
        if (t instanceof AccessDeniedException a) {
            return a.getFile() + ": permission denied";
        }
        if (t instanceof OutOfMemoryError) {
            return "out of Java heap memory; raise it with PANLLM_JAVA_OPTS=-Xmx...";
        }
        String m = t.getMessage();
        if (m == null || m.isBlank()) {
            m = t.getClass().getSimpleName();
        } else if (t instanceof IOException && !(t.getClass().getName().startsWith("io.panllm"))) {
            m = t.getClass().getSimpleName() + ": " + m;
        }
        return m.lines().findFirst().orElse(m);
    }

    static int exitCode(Throwable e) {
        String name = e.getClass().getName();
        if (e instanceof InterruptedException) {
            return ExitCodes.INTERRUPTED;
        }
        if (name.startsWith("io.panllm.kernels") || name.contains("Cuda") || name.contains("Gpu")) {
            return ExitCodes.GPU;
        }
        // Flags and values the user can fix on the command line; bad files and models have their own types.
        if (e instanceof CommandLine.ParameterException || e instanceof IllegalArgumentException) {
            return ExitCodes.USAGE;
        }
        return ExitCodes.ERROR;
    }
}
