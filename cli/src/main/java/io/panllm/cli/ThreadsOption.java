package io.panllm.cli;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import picocli.CommandLine.Option;

/** {@code -t/--threads}: the same flag, with the same meaning, in every command that computes. */
final class ThreadsOption {
    /** More threads than this only slow things down on any machine panllm runs on. */
    static final int MAX = 1024;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", defaultValue = "0",
            description = "CPU threads, 0 = all cores (default: ${DEFAULT-VALUE}; at most " + MAX + ")")
    @Range(min = 0, max = MAX)
    int threads;

    /**
     * Runs {@code work} with its parallel streams on {@code threads} threads (0: the common pool,
     * all cores): a parallel stream runs in the pool of the thread that starts it.
     */
    <T> T run(Callable<T> work) throws Exception {
        if (threads == 0) {
            return work.call();
        }
        ForkJoinPool pool = new ForkJoinPool(threads);
        try {
            return pool.submit(work).get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        } finally {
            pool.shutdownNow();
        }
    }
}
