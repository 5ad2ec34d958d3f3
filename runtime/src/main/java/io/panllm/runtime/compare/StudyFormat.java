package io.panllm.runtime.compare;

import io.panllm.runtime.convert.TargetType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One format a comparison asks for: a conversion target that {@code convert} can write, or a
 * format panllm knows of but cannot run yet, which the report lists as such rather than measuring
 * something else in its place.
 *
 * @param label             the name in the report ("q4_k_m", "int8")
 * @param target            what to convert to; null when not runnable
 * @param notRunnableReason why it is not measured; null when runnable
 */
public record StudyFormat(String label, TargetType target, String notRunnableReason) {

    /** LLM.int8 (bitsandbytes row-wise int8 with outliers): a tensor type exists in files, no kernel does. */
    static final String INT8_REASON = "not runnable yet: LLM.int8 row-wise int8 has no runtime kernel";

    /** Parses one name: a {@code convert --type} name, or "int8". */
    public static StudyFormat parse(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        if (n.equals("int8") || n.equals("llm.int8")) {
            return new StudyFormat("int8", null, INT8_REASON);
        }
        try {
            TargetType target = TargetType.parse(n);
            return new StudyFormat(target.label(), target, null);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().replaceFirst("\\)$", ", int8)"), e);
        }
    }

    /** Parses a comma-separated list such as "f16,q8_0,q4_0", refusing duplicates. */
    public static List<StudyFormat> parseList(String names) {
        List<StudyFormat> formats = new ArrayList<>();
        for (String name : names.split(",")) {
            if (name.isBlank()) {
                continue;
            }
            StudyFormat format = parse(name);
            if (formats.stream().anyMatch(f -> f.label().equals(format.label()))) {
                throw new IllegalArgumentException("type '" + format.label() + "' is listed twice");
            }
            formats.add(format);
        }
        if (formats.isEmpty()) {
            throw new IllegalArgumentException("no types given (e.g. --types f16,q8_0,q4_0)");
        }
        return formats;
    }

    public boolean runnable() {
        return target != null;
    }

    /**
     * The runnable format with the most bits per weight in its base type (the first of equals):
     * the reference the KL divergence of the others is measured against. Null when none runs.
     */
    public static StudyFormat highestPrecision(List<StudyFormat> formats) {
        StudyFormat best = null;
        for (StudyFormat f : formats) {
            if (f.runnable() && (best == null || f.target.base.bitsPerWeight() > best.target.base.bitsPerWeight())) {
                best = f;
            }
        }
        return best;
    }
}
