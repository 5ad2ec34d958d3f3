package io.panllm.cli;

import io.panllm.runtime.LoadedModel;
import io.panllm.runtime.eval.KlDivergence;
import io.panllm.runtime.eval.KldOptions;
import io.panllm.runtime.eval.KldResult;
import io.panllm.runtime.eval.Perplexity;
import io.panllm.runtime.eval.PerplexityOptions;
import io.panllm.runtime.eval.PerplexityResult;
import io.panllm.runtime.eval.ProgressListener;
import io.panllm.runtime.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code panllm perplexity}: llama.cpp's perplexity and KL-divergence measurements. */
@Command(name = "perplexity", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Perplexity of a model on a text, by llama.cpp's method (so the figures compare): the whole text",
                "is tokenized, cut into chunks of -c tokens each starting with BOS, and the second half of every chunk",
                "is scored. Prints the running [chunk]PPL and the final PPL ± standard error.",
                "",
                "KL divergence (how far a quantization is from a baseline):",
                "  1. panllm perplexity -m base.gguf -f TEXT --kl-divergence-base logits.bin   (saves the baseline)",
                "  2. panllm perplexity -m quant.gguf --kl-divergence logits.bin               (compares)",
                "The file is llama.cpp's --kl-divergence-base format (log-probabilities as uint16)."})
final class PerplexityCommand implements Callable<Integer> {

    @Mixin
    ModelOptions modelOptions;

    @Option(names = {"-f", "--file"}, paramLabel = "TEXT", description = "the text file (e.g. wiki.test.raw)")
    Path textFile;

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N", defaultValue = "512", description = "tokens per chunk (default: ${DEFAULT-VALUE})")
    @Range(min = 3)
    int contextSize;

    @Option(names = "--chunks", paramLabel = "N", defaultValue = "-1", description = "evaluate at most N chunks (default: all)")
    @Range(min = 1, also = -1)
    int chunks;

    @Option(names = "--kl-divergence-base", paramLabel = "FILE",
            description = "save the baseline log-probabilities to FILE (or, with a bare --kl-divergence, read them from it)")
    Path klBase;

    @Option(names = "--kl-divergence", paramLabel = "BASE", arity = "0..1", fallbackValue = "",
            description = "compare with the baseline saved in BASE (default: the --kl-divergence-base file)")
    String klCompare;

    @Option(names = "--json", description = "print the result as JSON (progress still goes to stderr)")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (klBase != null && klCompare == null) {
            OutputPaths.refuseInputs("--kl-divergence-base", klBase, modelOptions.modelPath(), textFile);
        }
        try (LoadedModel loaded = modelOptions.open()) {
            if (loaded.randomWeights()) {
                spec.commandLine().getErr().println("warning: " + loaded.path() + " has random weights (convert --random-init): "
                        + "its perplexity means nothing");
            }
            if (contextSize > loaded.model().trainedContextLength()) {
                throw new IllegalArgumentException("-c " + contextSize + " is larger than the model's context length "
                        + loaded.model().trainedContextLength());
            }
            Tokenizer tokenizer = loaded.tokenizer();
            boolean addBos = tokenizer.vocabulary().addBos();
            ProgressBar bar = new ProgressBar("perplexity");
            Interrupts.install(() -> { });
            try {
                if (klCompare != null) {
                    Path base = klCompare.isEmpty() ? klBase : Path.of(klCompare);
                    if (base == null) {
                        throw new IllegalArgumentException("--kl-divergence needs a baseline file (--kl-divergence BASE)");
                    }
                    KldResult r = KlDivergence.compare(loaded.model(), base, new KldOptions(chunks, addBos, tokenizer.bos()),
                            p -> {
                                checkInterrupt();
                                bar.update(p.chunk(), p.chunks(), String.format(Locale.ROOT, "chunk %d/%d KLD %.5f same top %.2f%%",
                                        p.chunk(), p.chunks(), p.kld().value(), 100 * p.sameTop().value()));
                            });
                    bar.close();
                    printKld(out, r);
                    return ExitCodes.OK;
                }
                int[] tokens = tokenize(tokenizer, addBos);
                PerplexityOptions options = new PerplexityOptions(contextSize, chunks, addBos, tokenizer.bos());
                StringBuilder running = new StringBuilder();
                ProgressListener progress = (chunk, total, ppl) -> {
                    checkInterrupt();
                    running.append(ProgressListener.format(chunk, ppl));
                    if (!json) {
                        out.print(ProgressListener.format(chunk, ppl));
                        out.flush();
                    }
                    bar.update(chunk, total, String.format(Locale.ROOT, "chunk %d/%d PPL %.4f", chunk, total, ppl));
                };
                PerplexityResult r = klBase != null
                        ? KlDivergence.writeBase(loaded.model(), tokens, options, klBase, progress)
                        : Perplexity.run(loaded.model(), tokens, options, progress);
                bar.close();
                if (json) {
                    Map<String, Object> map = new LinkedHashMap<>();
                    map.put("model", loaded.path().toString());
                    map.put("text", textFile.toString());
                    map.put("tokens", tokens.length);
                    map.putAll(r.toMap());
                    out.println(Json.write(map));
                } else {
                    out.println();
                    out.printf(Locale.ROOT, "Final estimate: PPL = %.4f +/- %.5f%n", r.perplexity(), r.standardError());
                    out.printf(Locale.ROOT, "%d chunks of %d tokens, %d tokens scored, %.2f s per chunk%s%n", r.chunks(), r.contextSize(),
                            r.scoredTokens(), r.secondsPerChunk(), klBase != null ? "; baseline saved to " + klBase : "");
                }
            } catch (CancellationException e) {
                bar.close();
                spec.commandLine().getErr().println("panllm perplexity: interrupted (no baseline file written)");
                return ExitCodes.INTERRUPTED;
            }
        }
        out.flush();
        return ExitCodes.OK;
    }

    private static void checkInterrupt() {
        if (Interrupts.requested()) {
            throw new CancellationException("interrupted");
        }
    }

    private int[] tokenize(Tokenizer tokenizer, boolean addBos) throws java.io.IOException {
        if (textFile == null) {
            throw new IllegalArgumentException("-f TEXT is required (or --kl-divergence BASE)");
        }
        return tokenizer.encode(TextFiles.readUtf8(textFile), addBos, false);
    }

    private void printKld(PrintWriter out, KldResult r) {
        if (json) {
            out.println(Json.write(r.toMap()));
            return;
        }
        out.printf(Locale.ROOT, "%n====== Perplexity statistics ======%n");
        out.printf(Locale.ROOT, "Mean PPL(Q)                   : %10.6f ± %10.6f%n", r.perplexity().value(), r.perplexity().uncertainty());
        out.printf(Locale.ROOT, "Mean PPL(base)                : %10.6f ± %10.6f%n", r.basePerplexity().value(), r.basePerplexity().uncertainty());
        out.printf(Locale.ROOT, "Cor(ln(PPL(Q)), ln(PPL(base))): %10.2f%%%n", 100 * r.lnPplCorrelation());
        out.printf(Locale.ROOT, "Mean ln(PPL(Q)/PPL(base))     : %10.6f ± %10.6f%n", r.lnPplRatio().value(), r.lnPplRatio().uncertainty());
        out.printf(Locale.ROOT, "Mean PPL(Q)/PPL(base)         : %10.6f ± %10.6f%n", r.pplRatio().value(), r.pplRatio().uncertainty());
        out.printf(Locale.ROOT, "Mean PPL(Q)-PPL(base)         : %10.6f ± %10.6f%n", r.pplDifference().value(), r.pplDifference().uncertainty());
        out.printf(Locale.ROOT, "%n====== KL divergence statistics ======%n");
        out.printf(Locale.ROOT, "Mean    KLD: %10.6f ± %10.6f%n", r.meanKld().value(), r.meanKld().uncertainty());
        r.kld().toMap().forEach((k, v) -> out.printf(Locale.ROOT, "%-7s KLD: %10.6f%n", k, ((Number) v).doubleValue()));
        out.printf(Locale.ROOT, "%n====== Token probability statistics ======%n");
        out.printf(Locale.ROOT, "Mean    Δp: %8.3f ± %.3f %%%n", 100 * r.meanDeltaP().value(), 100 * r.meanDeltaP().uncertainty());
        r.deltaP().toMap().forEach((k, v) -> out.printf(Locale.ROOT, "%-7s Δp: %8.3f%%%n", k, 100 * ((Number) v).doubleValue()));
        out.printf(Locale.ROOT, "RMS Δp    : %8.3f ± %.3f %%%n", 100 * r.rmsDeltaP().value(), 100 * r.rmsDeltaP().uncertainty());
        out.printf(Locale.ROOT, "Same top p: %8.3f ± %.3f %%%n", 100 * r.sameTop().value(), 100 * r.sameTop().uncertainty());
    }
}
