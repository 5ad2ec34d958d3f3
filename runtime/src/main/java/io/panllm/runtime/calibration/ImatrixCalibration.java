package io.panllm.runtime.calibration;

import io.panllm.gguf.GgufFile;
import io.panllm.runtime.LanguageModel;
import io.panllm.runtime.Session;
import io.panllm.runtime.cpu.CpuBackend;
import io.panllm.runtime.model.LlamaModel;
import io.panllm.runtime.tokenizer.Tokenizer;
import io.panllm.runtime.tokenizer.Tokenizers;
import java.nio.file.Path;
import java.util.List;

/**
 * llama-imatrix's computation on the CPU: the calibration text's tokens cut into chunks of
 * {@code contextSize} (the first token of each replaced by BOS when the vocabulary adds one), each
 * run from an empty KV cache while an {@link ImatrixCollector} sums the squared inputs of every
 * block matrix. llama-imatrix's perplexity side computation (its --no-ppl turns it off) is left out.
 */
public final class ImatrixCalibration implements AutoCloseable {
    /** Told after each chunk; may throw to stop. */
    @FunctionalInterface
    public interface Progress {
        void chunkDone(int chunk, int chunks);
    }

    private final GgufFile file;
    private final CpuBackend backend;
    private final LanguageModel model;
    private final Tokenizer tokenizer;
    private final ImatrixCollector collector = new ImatrixCollector();

    /** Opens a GGUF model on a CPU backend of {@code threads} threads (0: all cores) that reports to the collector. */
    public ImatrixCalibration(Path gguf, int threads) {
        this.file = GgufFile.open(gguf);
        CpuBackend cpu = null;
        try {
            this.tokenizer = Tokenizers.fromGguf(file.metadata(), gguf.toString());
            cpu = new CpuBackend(threads > 0 ? threads : Runtime.getRuntime().availableProcessors(), collector);
            this.model = LlamaModel.load(file, cpu);
            this.backend = cpu;
        } catch (RuntimeException e) {
            if (cpu != null) {
                cpu.close();
            }
            file.close();
            throw e;
        }
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public LanguageModel model() {
        return model;
    }

    /**
     * Runs {@code chunks} chunks (-1: all that fit) of the text and returns the imatrix.
     *
     * @throws ImatrixException when the text has fewer tokens than one chunk
     */
    public Imatrix run(String text, String datasetName, int contextSize, int chunks, Progress progress) {
        boolean addBos = tokenizer.vocabulary().addBos();
        int[] tokens = tokenizer.encode(text, addBos, false);
        int available = tokens.length / contextSize;
        if (available < 1) {
            throw new ImatrixException("the calibration text has " + tokens.length + " tokens, fewer than one chunk of "
                    + contextSize + " (-c)");
        }
        int n = chunks < 0 ? available : Math.min(chunks, available);
        try (Session session = model.newSession(contextSize)) {
            for (int chunk = 0; chunk < n; chunk++) {
                int[] input = new int[contextSize];
                System.arraycopy(tokens, chunk * contextSize, input, 0, contextSize);
                if (addBos) {
                    input[0] = tokenizer.bos();
                }
                session.rewind(0);
                session.forward(input);
                if (progress != null) {
                    progress.chunkDone(chunk + 1, n);
                }
            }
        }
        return collector.result(n, contextSize, List.of(datasetName));
    }

    @Override
    public void close() {
        model.close();
        backend.close();
        file.close();
    }
}
