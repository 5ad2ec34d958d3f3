package io.panllm.cli;

/** Exit codes, as listed in {@code panllm --help}. */
public final class ExitCodes {
    private ExitCodes() {
    }

    public static final int OK = 0;
    public static final int ERROR = 1;
    public static final int USAGE = 2;
    public static final int GPU = 3;
    public static final int INTERRUPTED = 130;
}
