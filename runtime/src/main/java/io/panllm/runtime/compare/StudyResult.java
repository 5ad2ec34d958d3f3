package io.panllm.runtime.compare;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A finished comparison: one result per requested format, in the order asked.
 *
 * @param settings           how everything was measured
 * @param machine            where
 * @param base               the format KL divergence is measured against, or null when none ran
 * @param results            one per format
 * @param cached             labels of the formats whose results were reused from an earlier run
 * @param randomWeights      true when the model has random weights: accuracy figures mean nothing
 * @param peakMemoryPerFormat true when the peak RSS could be reset between formats (else it is the
 *                           process's peak so far, which only grows)
 * @param finished           when the study ended
 */
public record StudyResult(StudySettings settings, MachineInfo machine, String base, List<FormatResult> results,
                          List<String> cached, boolean randomWeights, boolean peakMemoryPerFormat, Instant finished) {

    /**
     * What the models ran on, from their descriptions ("llama 260K Q4_0 on cpu (2 threads)" gives
     * "cpu (2 threads)"; on a GPU the backend names the device). Null when nothing ran.
     */
    public String backend() {
        for (FormatResult r : results) {
            String d = r.description();
            if (d != null && d.contains(" on ")) {
                return d.substring(d.lastIndexOf(" on ") + 4);
            }
        }
        return null;
    }

    /** The figures as plain maps and lists, for report.json. */
    public Map<String, Object> toMap(String commandLine) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("command", commandLine);
        map.put("date", finished.toString());
        map.put("machine", machine.toMap());
        map.put("backend", backend());
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("input", settings.input().toString());
        s.put("text", settings.text().toString());
        s.put("context_size", settings.contextSize());
        s.put("chunks", settings.chunks());
        s.put("bench_prompt_tokens", settings.bench().promptTokens());
        s.put("bench_gen_tokens", settings.bench().genTokens());
        s.put("bench_repetitions", settings.bench().repetitions());
        s.put("bench_warmups", settings.bench().warmups());
        s.put("device", settings.device().name().toLowerCase(java.util.Locale.ROOT));
        s.put("threads", settings.threads());
        map.put("settings", s);
        map.put("kld_base", base);
        map.put("random_weights", randomWeights);
        map.put("peak_rss_per_format", peakMemoryPerFormat);
        map.put("reused_from_cache", cached);
        map.put("results", new ArrayList<>(results));
        return map;
    }
}
