package io.panllm.runtime.compare;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The machine a comparison ran on, for the report: speed figures mean little without it. (The GPU,
 * when one is used, is named by the backend: {@link StudyResult#backend()}.)
 *
 * @param cores    processors available to the JVM
 * @param os       name, version and architecture
 * @param java     the runtime's version and vendor
 * @param cpuModel "model name" from /proc/cpuinfo (or os.arch where there is none)
 * @param memoryBytes total memory from /proc/meminfo, or -1
 */
public record MachineInfo(int cores, String os, String java, String cpuModel, long memoryBytes) {

    public static MachineInfo detect() {
        return new MachineInfo(Runtime.getRuntime().availableProcessors(),
                System.getProperty("os.name") + " " + System.getProperty("os.version") + " (" + System.getProperty("os.arch") + ")",
                Runtime.version() + " (" + System.getProperty("java.vendor") + ")",
                procField("/proc/cpuinfo", "model name", System.getProperty("os.arch")),
                kilobytes(procField("/proc/meminfo", "MemTotal", null)));
    }

    /** The value of the first "key : value" line, or {@code fallback}. */
    private static String procField(String file, String key, String fallback) {
        try {
            for (String line : Files.readAllLines(Path.of(file))) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equals(key)) {
                    return line.substring(colon + 1).trim();
                }
            }
        } catch (IOException e) {
            return fallback;
        }
        return fallback;
    }

    /** "24684096 kB" as bytes, -1 when absent. */
    private static long kilobytes(String field) {
        if (field == null || !field.matches("\\d+ kB")) {
            return -1;
        }
        return Long.parseLong(field.substring(0, field.length() - 3)) * 1024;
    }

    Map<String, Object> toMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("cores", cores);
        map.put("os", os);
        map.put("java", java);
        map.put("cpu", cpuModel);
        map.put("memory_bytes", memoryBytes);
        return map;
    }
}
