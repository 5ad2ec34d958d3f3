package io.panllm.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Refuses, before anything is written, an output that would overwrite one of the command's inputs:
 * the same file under another name (./x and x, a symbolic link, a hard link) included, as the
 * file system sees it, not as the strings compare.
 */
final class OutputPaths {
    private OutputPaths() {
    }

    /** A usage error when the output file {@code output} (given as {@code flag}) is one of {@code inputs}. */
    static void refuseInputs(String flag, Path output, Path... inputs) {
        for (Path input : inputs) {
            if (input != null && sameFile(output, input)) {
                throw new IllegalArgumentException(flag + " " + output + " is the input " + input
                        + ": writing it would destroy the input; choose another output");
            }
        }
    }

    /**
     * A usage error when the output folder {@code dir} is one of {@code inputs} or holds one of
     * them (the command writes files of its own choosing there).
     */
    static void refuseInputsInside(String flag, Path dir, Path... inputs) {
        refuseInputs(flag, dir, inputs);
        if (!Files.isDirectory(dir)) {
            return;
        }
        for (Path input : inputs) {
            if (input != null && Files.exists(input)) {
                try {
                    if (input.toRealPath().startsWith(dir.toRealPath())) {
                        throw new IllegalArgumentException(flag + " " + dir + " holds the input " + input
                                + ": the report could overwrite it; choose another folder");
                    }
                } catch (IOException e) {
                    // unreadable: the command reports it when it gets there
                }
            }
        }
    }

    private static boolean sameFile(Path a, Path b) {
        try {
            return Files.exists(a) && Files.exists(b) && Files.isSameFile(a, b);
        } catch (IOException e) {
            return false;
        }
    }
}
