package io.panllm.runtime.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/** Runs a loop over a range of indices on a fixed pool of threads, split into contiguous chunks. */
final class Parallel implements AutoCloseable {

    /** The body of a loop over {@code [start, end)}, run by one thread. */
    @FunctionalInterface
    interface RangeBody {
        void run(int start, int end);
    }

    private final int threads;
    private final ForkJoinPool pool;

    Parallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("thread count must be at least 1, got " + threads);
        }
        this.threads = threads;
        this.pool = threads == 1 ? null : new ForkJoinPool(threads);
    }

    int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over {@code [0, count)}. {@code work} estimates the cost of the whole loop
     * (in multiply-adds): small loops run on the calling thread, where forking costs more than it saves.
     */
    void forRange(int count, long work, RangeBody body) {
        if (pool == null || count < 2 || work < 32_768) {
            body.run(0, count);
            return;
        }
        // A few chunks per thread so that one slow thread does not hold the others up.
        int chunks = (int) Math.min(count, 4L * threads);
        pool.invoke(new Chunks(body, count, 0, chunks, chunks));
    }

    /** Splits chunk indices [fromChunk, toChunk) in halves until one is left, then runs it. */
    private static final class Chunks extends RecursiveAction {
        private final RangeBody body;
        private final int count;
        private final int fromChunk;
        private final int toChunk;
        private final int chunks;

        Chunks(RangeBody body, int count, int fromChunk, int toChunk, int chunks) {
            this.body = body;
            this.count = count;
            this.fromChunk = fromChunk;
            this.toChunk = toChunk;
            this.chunks = chunks;
        }

        @Override
        protected void compute() {
            if (toChunk - fromChunk == 1) {
                int start = (int) ((long) count * fromChunk / chunks);
                int end = (int) ((long) count * toChunk / chunks);
                body.run(start, end);
                return;
            }
            int middle = (fromChunk + toChunk) >>> 1;
            invokeAll(new Chunks(body, count, fromChunk, middle, chunks), new Chunks(body, count, middle, toChunk, chunks));
        }
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdown();
        }
    }
}
