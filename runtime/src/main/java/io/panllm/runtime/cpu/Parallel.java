package io.panllm.runtime.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs a loop over a range of indices on {@code threads} threads: the calling thread and
 * {@code threads - 1} pool workers take contiguous chunks from a shared counter until none are
 * left. The caller working too means no thread sits idle waiting, which matters when there are
 * as many threads as cores.
 */
final class Parallel implements AutoCloseable {

    /** The body of a loop over {@code [start, end)}, run by one thread. */
    @FunctionalInterface
    interface RangeBody {
        void run(int start, int end);
    }

    /** Chunks per thread: enough that a thread slowed down by something else holds no one up. */
    private static final int CHUNKS_PER_THREAD = 4;

    private final int threads;
    private final ForkJoinPool workers;
    private final ForkJoinTask<?>[] helping;

    Parallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("thread count must be at least 1, got " + threads);
        }
        this.threads = threads;
        this.workers = threads == 1 ? null : new ForkJoinPool(threads - 1);
        this.helping = new ForkJoinTask<?>[threads - 1];
    }

    int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over {@code [0, count)}. {@code work} estimates the cost of the whole loop
     * (in multiply-adds): small loops run on the calling thread alone, where waking workers costs
     * more than it saves. Not reentrant: one loop at a time per instance.
     */
    void forRange(int count, long work, RangeBody body) {
        if (workers == null || count < 2 || work < 32_768) {
            body.run(0, count);
            return;
        }
        int chunks = (int) Math.min(count, (long) CHUNKS_PER_THREAD * threads);
        AtomicInteger nextChunk = new AtomicInteger();
        Runnable takeChunks = () -> {
            for (int c = nextChunk.getAndIncrement(); c < chunks; c = nextChunk.getAndIncrement()) {
                body.run((int) ((long) count * c / chunks), (int) ((long) count * (c + 1) / chunks));
            }
        };
        synchronized (helping) {
            for (int i = 0; i < helping.length; i++) {
                helping[i] = workers.submit(takeChunks);
            }
            try {
                takeChunks.run();
            } finally {
                for (ForkJoinTask<?> task : helping) {
                    task.join();
                }
            }
        }
    }

    @Override
    public void close() {
        if (workers != null) {
            workers.shutdown();
        }
    }
}
