package io.panllm.runtime.eval;

import io.panllm.runtime.LanguageModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * KL divergence between a base model and a model under test, in two runs as llama.cpp does it:
 * {@link #writeBase} evaluates the base model (perplexity chunks) and saves the log-probabilities
 * of every scored position in llama.cpp's {@code --kl-divergence-base} file format
 * ({@link BaseLogitsFormat}); {@link #compare} replays the same tokens through another model and
 * compares its distributions with the saved ones.
 *
 * <p>The file keeps log-probabilities to 16 nats below each position's best token (uint16 steps
 * of at most 16/65535 nats); a less likely correct token counts as if it were at that floor. So
 * PPL(base) as read back can sit slightly below the base model's own perplexity when the text
 * holds tokens the model all but rules out (e.g. BOS in mid-text): llama.cpp's format and
 * arithmetic, kept so that files and figures compare with its own.
 */
public final class KlDivergence {

    private KlDivergence() {
    }

    /**
     * Runs perplexity over {@code tokens} and saves the base log-probabilities to {@code file}
     * (written to a temporary file and renamed, so a failed run leaves nothing behind).
     *
     * @return the perplexity of the base model (computed from the float log-probabilities, as
     *         llama.cpp does while writing the file)
     * @throws NotEnoughTokensException if {@code tokens} holds fewer than 2 * n_ctx tokens
     */
    public static PerplexityResult writeBase(LanguageModel model, int[] tokens, PerplexityOptions options,
                                             Path file, ProgressListener progress) throws IOException {
        Perplexity.requireEnoughTokens(tokens, options);
        int chunks = ChunkedEvaluation.chunkCount(tokens.length, options);
        QuantizedLogProbs row = new QuantizedLogProbs(model.vocabSize());
        NllAccumulator nll = new NllAccumulator();
        double[] running = new double[chunks];
        long start = System.nanoTime();
        try (BaseLogitsWriter writer = new BaseLogitsWriter(file, options.contextSize(), model.vocabSize(), chunks,
                tokens)) {
            ChunkedEvaluation.run(model, tokens, chunks, options,
                    (chunk, position, logits, target) -> {
                        nll.add(row.encode(logits, target));
                        writer.writeRow(row);
                    },
                    chunk -> {
                        running[chunk] = nll.perplexity();
                        progress.onChunk(chunk + 1, chunks, running[chunk]);
                    });
            writer.commit();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        return new PerplexityResult(nll.perplexity(), nll.standardError(), chunks, options.contextSize(),
                nll.count(), running, System.nanoTime() - start);
    }

    /**
     * Evaluates {@code model} on the tokens saved in {@code baseFile} and compares it with the
     * saved log-probabilities.
     *
     * @throws BaseLogitsException if the file is malformed or its vocabulary differs from the model's
     */
    public static KldResult compare(LanguageModel model, Path baseFile, KldOptions options,
                                    KldProgress.Listener progress) throws IOException {
        try (BaseLogitsReader base = new BaseLogitsReader(baseFile)) {
            if (base.vocabSize() != model.vocabSize()) {
                throw new BaseLogitsException(baseFile, 12, "saved for a vocabulary of " + base.vocabSize()
                        + " tokens, the model has " + model.vocabSize() + " (a different model family?)");
            }
            PerplexityOptions chunking = options.chunking(base.contextSize());
            int[] tokens = base.tokens();
            int chunks = ChunkedEvaluation.chunkCount(tokens.length, chunking);
            KldAccumulator sums = new KldAccumulator((long) chunks * chunking.scoredPerChunk());
            QuantizedLogProbs baseRow = new QuantizedLogProbs(base.vocabSize());
            ChunkedEvaluation.run(model, tokens, chunks, chunking,
                    (chunk, position, logits, target) -> {
                        base.readRow(chunk, position, baseRow);
                        sums.add(logits, baseRow, target);
                    },
                    chunk -> progress.onChunk(new KldProgress(chunk + 1, chunks,
                            sums.perplexity(sums.logPerplexity()), sums.logPerplexityRatio(), sums.meanKld(),
                            sums.rmsDeltaP(), sums.sameTopFraction())));
            return KldResult.from(sums, chunks, base.contextSize());
        }
    }
}
