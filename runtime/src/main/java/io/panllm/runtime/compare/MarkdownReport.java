package io.panllm.runtime.compare;

import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Renders a {@link StudyResult} as report.md: the table of formats (as the quantization studies
 * print them), the plots, then how and where it was measured.
 */
public final class MarkdownReport {
    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'").withZone(ZoneOffset.UTC);

    /** A plot to embed: its file name beside report.md and what it shows. */
    public record Plot(String file, String caption) {
    }

    private MarkdownReport() {
    }

    public static String render(StudyResult study, String commandLine, List<Plot> plots) {
        StudySettings s = study.settings();
        StringBuilder md = new StringBuilder();
        md.append("# Format comparison: ").append(s.input().getFileName()).append("\n\n");
        if (study.randomWeights()) {
            md.append("**This model has random weights** (`convert --random-init`): perplexity and KL divergence would mean ")
                    .append("nothing, so they were not measured. Sizes and speeds are real.\n\n");
        }
        table(md, study);
        notes(md, study);
        for (Plot p : plots) {
            md.append("![").append(p.caption()).append("](").append(p.file()).append(")\n\n");
        }
        tensorTypes(md, study);
        md.append("## How it was measured\n\n");
        md.append("```\n").append(commandLine).append("\n```\n\n");
        md.append("- Date: ").append(DATE.format(study.finished())).append("\n");
        md.append("- Input: `").append(s.input()).append("`\n");
        md.append("- Text: `").append(s.text()).append("`, ").append(s.contextSize()).append(" tokens per chunk, ")
                .append(s.chunks() < 0 ? "all chunks" : "at most " + s.chunks() + " chunks")
                .append(" (llama.cpp's method: the second half of each chunk is scored)\n");
        md.append("- Speed: pp").append(s.bench().promptTokens()).append(" (one batch of ").append(s.bench().promptTokens())
                .append(" prompt tokens) and tg").append(s.bench().genTokens()).append(" (").append(s.bench().genTokens())
                .append(" tokens one by one), mean ± stddev of ").append(s.bench().repetitions()).append(" runs after ")
                .append(s.bench().warmups()).append(" warm-up, as `panllm bench`\n");
        MachineInfo m = study.machine();
        md.append("- Machine: ").append(m.cpuModel()).append(", ").append(m.cores()).append(" cores")
                .append(m.memoryBytes() < 0 ? "" : ", " + bytes(m.memoryBytes()) + " memory").append("\n");
        md.append("- Device: ").append(s.device().name().toLowerCase(Locale.ROOT))
                .append(study.backend() == null ? "" : ": " + study.backend()).append("\n");
        md.append("- OS: ").append(m.os()).append("\n");
        md.append("- Java: ").append(m.java()).append("\n");
        return md.toString();
    }

    private static void table(StringBuilder md, StudyResult study) {
        StudySettings s = study.settings();
        String kldHeader = study.base() == null ? "KLD" : "KLD vs " + study.base();
        boolean gpu = onGpu(study);
        md.append("| type | file size | bits/weight | bits/weight (linear) | peak RSS | ").append(gpu ? "peak GPU memory | " : "")
                .append("PPL | ").append(kldHeader)
                .append(" | same top | pp").append(s.bench().promptTokens()).append(" tok/s | tg").append(s.bench().genTokens())
                .append(" tok/s | status |\n");
        md.append("| --- | ---: | ---: | ---: | ---: | ").append(gpu ? "---: | " : "").append("---: | ---: | ---: | ---: | ---: | --- |\n");
        for (FormatResult r : study.results()) {
            boolean isBase = r.format().equals(study.base());
            md.append("| ").append(r.format()).append(isBase ? " (base)" : "")
                    .append(" | ").append(r.fileBytes() == null ? "–" : bytes(r.fileBytes()))
                    .append(" | ").append(number(r.bitsPerWeight(), "%.2f"))
                    .append(" | ").append(number(r.linearBitsPerWeight(), "%.2f"))
                    .append(" | ").append(r.peakRssBytes() < 0 ? "–" : bytes(r.peakRssBytes()))
                    .append(gpu ? " | " + (r.peakGpuBytes() == null ? "–" : bytes(r.peakGpuBytes())) : "")
                    .append(" | ").append(estimate(r.perplexity(), r.perplexityError(), "%.4f", 1))
                    .append(" | ").append(isBase && r.meanKld() != null ? "0 (base)" : estimate(r.meanKld(), r.meanKldError(), kldFormat(r.meanKld()), 1))
                    .append(" | ").append(isBase && r.sameTop() != null ? "100 % (base)"
                            : r.sameTop() == null ? "–" : estimate(r.sameTop(), r.sameTopError(), "%.2f", 100) + " %")
                    .append(" | ").append(estimate(r.promptTokensPerSecond(), r.promptTokensPerSecondSd(), "%.1f", 1))
                    .append(" | ").append(estimate(r.genTokensPerSecond(), r.genTokensPerSecondSd(), "%.1f", 1))
                    .append(" | ").append(status(r, study.cached().contains(r.format())))
                    .append(" |\n");
        }
        md.append("\n");
    }

    private static String status(FormatResult r, boolean cached) {
        return switch (r.status()) {
            case MEASURED -> cached ? "ok (cached)" : "ok";
            case FAILED -> "failed: " + r.error().replace("|", "\\|");
        };
    }

    private static void notes(StringBuilder md, StudyResult study) {
        md.append("- PPL: perplexity ± standard error on the text, exactly as `panllm perplexity` computes it.\n");
        FormatResult base = study.results().stream().filter(r -> r.format().equals(study.base())).findFirst().orElse(null);
        if (base != null && base.status() != FormatResult.Status.MEASURED) {
            md.append("- KLD: the base ").append(study.base()).append(" could not be measured (see its row), so there is no KLD.\n");
        } else if (base != null) {
            md.append("- KLD: mean KL(").append(study.base()).append(" ‖ type) per scored token; same top: how often both rank ")
                    .append("the same token first (llama.cpp's `--kl-divergence`, against the ").append(study.base())
                    .append(" file's log-probabilities).\n");
        }
        md.append("- bits/weight: tensor bytes × 8 / weights over all tensors; (linear): over the layers' attention and ")
                .append("feed-forward matrices only (not the embedding, output head or norms). Rows that are not whole ")
                .append("blocks fall back to other types as in llama.cpp (see the tensor types below).\n");
        md.append("- peak RSS: the whole JVM process's peak resident memory while the type ran")
                .append(study.peakMemoryPerFormat() ? " (reset between types)" : " (could not be reset between types: the peak so far)")
                .append(", so it includes the JVM itself.\n");
        if (onGpu(study)) {
            md.append("- peak GPU memory: the most device memory panllm held at once while the type ran: weights as ")
                    .append("stored, KV cache, activations and scratch buffers (the CUDA context and cuBLAS's own ")
                    .append("workspace, the same few hundred MiB for every type, are not included).\n");
        }
        md.append("\n");
    }

    private static boolean onGpu(StudyResult study) {
        return study.results().stream().anyMatch(r -> r.peakGpuBytes() != null);
    }

    private static void tensorTypes(StringBuilder md, StudyResult study) {
        md.append("### Tensor types per format\n\n| type | weights per tensor type |\n| --- | --- |\n");
        for (FormatResult r : study.results()) {
            if (r.parametersPerType() == null || r.parameters() == null) {
                continue;
            }
            StringBuilder mix = new StringBuilder();
            for (Map.Entry<String, Long> e : r.parametersPerType().entrySet()) {
                mix.append(mix.isEmpty() ? "" : ", ").append(e.getKey()).append(' ')
                        .append(String.format(Locale.ROOT, "%.1f %%", 100.0 * e.getValue() / r.parameters()));
            }
            md.append("| ").append(r.format()).append(" | ").append(mix).append(" |\n");
        }
        md.append("\n");
    }

    /** Fixed decimals for the usual KLDs, scientific for the tiny ones of near-lossless types. */
    private static String kldFormat(Double kld) {
        return kld != null && kld != 0 && Math.abs(kld) < 1e-3 ? "%.2e" : "%.5f";
    }

    static String number(Double v, String format) {
        return v == null ? "–" : String.format(Locale.ROOT, format, v);
    }

    static String estimate(Double value, Double error, String format, double scale) {
        if (value == null) {
            return "–";
        }
        String v = String.format(Locale.ROOT, format, value * scale);
        return error == null ? v : v + " ± " + String.format(Locale.ROOT, format, error * scale);
    }

    /** Binary units, as {@code panllm convert} prints sizes. */
    public static String bytes(long n) {
        return io.panllm.runtime.PeakMemory.format(n);
    }
}
