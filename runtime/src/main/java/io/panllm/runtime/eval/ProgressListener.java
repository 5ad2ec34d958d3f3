package io.panllm.runtime.eval;

import java.util.Locale;

/**
 * Told after every chunk of a perplexity run (on the evaluating thread). To stop a run early
 * (Ctrl-C), throw {@link java.util.concurrent.CancellationException} from here: it propagates out
 * of the run, and a base file being written is deleted.
 */
@FunctionalInterface
public interface ProgressListener {

    /**
     * @param chunk             number of chunks done so far (1-based)
     * @param chunks            number of chunks that will be evaluated
     * @param runningPerplexity the perplexity over every token scored so far
     */
    void onChunk(int chunk, int chunks, double runningPerplexity);

    ProgressListener NONE = (chunk, chunks, runningPerplexity) -> {
    };

    /** llama.cpp's progress item, e.g. {@code [3]7.1234,} */
    static String format(int chunk, double runningPerplexity) {
        return String.format(Locale.ROOT, "[%d]%.4f,", chunk, runningPerplexity);
    }
}
