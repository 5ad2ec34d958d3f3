package io.panllm.runtime.compare;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.panllm.runtime.LoadedModel;
import io.panllm.runtime.bench.Benchmark;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a study back from the report.json that {@link StudyResult#toMap} wrote, so that the
 * report and its plots can be drawn again elsewhere (for example on a workstation, for a study
 * measured on a GPU machine whose Java runtime cannot draw).
 */
public final class ReportJson {
    private static final ObjectMapper JSON = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private ReportJson() {
    }

    /** A study and the command line that measured it. */
    public record Report(StudyResult study, String commandLine) {
    }

    /** @throws IOException if the file cannot be read or is not a report.json of {@code panllm compare} */
    public static Report read(Path file) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (JacksonException e) {
            throw new IOException(file + ": not a report.json of panllm compare (" + e.getOriginalMessage() + ")", e);
        }
        try {
            JsonNode s = require(root, "settings");
            Benchmark.Options bench = new Benchmark.Options(require(s, "bench_prompt_tokens").asInt(),
                    require(s, "bench_gen_tokens").asInt(), require(s, "bench_repetitions").asInt(),
                    s.path("bench_warmups").asInt(1), 42);
            StudySettings settings = new StudySettings(Path.of(require(s, "input").asText()), Path.of(require(s, "text").asText()),
                    require(s, "context_size").asInt(), require(s, "chunks").asInt(), bench,
                    LoadedModel.Device.parse(require(s, "device").asText()), s.path("threads").asInt());
            JsonNode m = require(root, "machine");
            MachineInfo machine = new MachineInfo(m.path("cores").asInt(), m.path("os").asText(), m.path("java").asText(),
                    m.path("cpu").asText(), m.path("memory_bytes").asLong(-1));
            List<FormatResult> results = new ArrayList<>();
            for (JsonNode r : require(root, "results")) {
                results.add(JSON.treeToValue(r, FormatResult.class));
            }
            List<String> cached = new ArrayList<>();
            root.path("reused_from_cache").forEach(n -> cached.add(n.asText()));
            JsonNode base = root.path("kld_base");
            StudyResult study = new StudyResult(settings, machine, base.isNull() || base.isMissingNode() ? null : base.asText(),
                    results, cached, root.path("random_weights").asBoolean(), root.path("peak_rss_per_format").asBoolean(),
                    Instant.parse(require(root, "date").asText()));
            return new Report(study, require(root, "command").asText());
        } catch (IllegalArgumentException | java.time.DateTimeException e) {
            throw new IOException(file + ": not a report.json of panllm compare (" + e.getMessage() + ")", e);
        } catch (JacksonException e) {
            throw new IOException(file + ": not a report.json of panllm compare (" + e.getOriginalMessage() + ")", e);
        }
    }

    private static JsonNode require(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            throw new IllegalArgumentException("no '" + field + "'");
        }
        return value;
    }
}
