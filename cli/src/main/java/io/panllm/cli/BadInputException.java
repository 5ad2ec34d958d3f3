package io.panllm.cli;

/** An input file or text that cannot be used (exit code 1), as opposed to a bad flag (exit code 2). */
final class BadInputException extends RuntimeException {
    BadInputException(String message) {
        super(message);
    }
}
