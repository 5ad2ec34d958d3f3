package io.panllm.cli;

import io.panllm.runtime.calibration.Imatrix;
import io.panllm.runtime.calibration.ImatrixCalibration;
import io.panllm.runtime.calibration.ImatrixFile;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code panllm imatrix}: llama-imatrix's importance matrix, for {@code convert --imatrix}. */
@Command(name = "imatrix", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Compute an importance matrix (imatrix) as llama.cpp's llama-imatrix does: the mean of the squared",
                "activations entering each column of every matrix of the transformer blocks, over a calibration text cut",
                "into chunks of -c tokens (each starting with BOS). Runs on the CPU.",
                "The file is llama.cpp's format: GGUF (NAME.in_sum2 / NAME.counts), or the legacy format when OUT ends in",
                ".dat. llama-quantize --imatrix reads both, and so does panllm convert --imatrix."},
        footer = {"", "Example:", "  panllm imatrix -m model-f16.gguf -f calibration.txt -o imatrix.gguf --chunks 100",
                "  panllm convert model-f16.gguf q4_0 --imatrix imatrix.gguf -o model-q4_0.gguf"})
final class ImatrixCommand implements Callable<Integer> {

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE", description = "model (GGUF, F32/F16 for best results)")
    Path model;

    @Option(names = {"-f", "--file"}, required = true, paramLabel = "TEXT", description = "calibration text (UTF-8)")
    Path textFile;

    @Option(names = {"-o", "--output"}, defaultValue = "imatrix.gguf", paramLabel = "OUT",
            description = "output file; .dat selects the legacy format (default: ${DEFAULT-VALUE})")
    Path output;

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N", defaultValue = "512", description = "tokens per chunk (default: ${DEFAULT-VALUE})")
    @Range(min = 1)
    int contextSize;

    @Option(names = "--chunks", paramLabel = "N", defaultValue = "-1", description = "use at most N chunks (default: all)")
    @Range(min = 1, also = -1)
    int chunks;

    @Option(names = "--force", description = "overwrite OUT if it exists")
    boolean force;

    @Mixin
    ThreadsOption threads;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        OutputPaths.refuseInputs("-o", output, model, textFile);
        if (Files.exists(output) && !force) {
            throw new IllegalArgumentException(output + " exists (add --force to overwrite)");
        }
        String text = TextFiles.readUtf8(textFile);
        try (ImatrixCalibration calibration = new ImatrixCalibration(model, threads.threads)) {
            if (contextSize > calibration.model().trainedContextLength()) {
                throw new IllegalArgumentException("-c " + contextSize + " is larger than the model's context length "
                        + calibration.model().trainedContextLength());
            }
            ProgressBar bar = new ProgressBar("imatrix");
            Interrupts.install(() -> { });
            long start = System.nanoTime();
            Imatrix imatrix;
            try {
                imatrix = calibration.run(text, textFile.getFileName().toString(), contextSize, chunks, (chunk, total) -> {
                    if (Interrupts.requested()) {
                        throw new CancellationException("interrupted");
                    }
                    bar.update(chunk, total, String.format(Locale.ROOT, "chunk %d/%d", chunk, total));
                });
            } catch (CancellationException e) {
                bar.close();
                spec.commandLine().getErr().println("panllm imatrix: interrupted (nothing written)");
                return ExitCodes.INTERRUPTED;
            }
            bar.close();
            ImatrixFile.write(imatrix, output);
            out.printf(Locale.ROOT, "wrote %s (%s format): %d tensors, %d chunks of %d tokens, %.1f s%n", output,
                    ImatrixFile.isLegacy(output) ? "legacy .dat" : "GGUF", imatrix.entries().size(), imatrix.chunkCount(),
                    imatrix.chunkSize(), (System.nanoTime() - start) / 1e9);
        }
        return ExitCodes.OK;
    }
}
