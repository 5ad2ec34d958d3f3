package io.panllm.runtime.compare;

import io.panllm.runtime.convert.TargetType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One format a comparison asks for: a conversion target that {@code convert} can write (the
 * bitsandbytes formats NF4, FP4 and INT8 as panllm's extension types).
 *
 * @param label  the name in the report ("q4_k_m", "int8")
 * @param target what to convert to
 */
public record StudyFormat(String label, TargetType target) {

    /** Parses one name: a {@code convert --type} name ("int8" is LLM.int8, panllm's INT8). */
    public static StudyFormat parse(String name) {
        TargetType target = TargetType.parse(name.trim().toLowerCase(Locale.ROOT));
        return new StudyFormat(target.label(), target);
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

    /**
     * The format with the most bits per weight in its base type (the first of equals): the
     * reference the KL divergence of the others is measured against.
     */
    public static StudyFormat highestPrecision(List<StudyFormat> formats) {
        StudyFormat best = null;
        for (StudyFormat f : formats) {
            if (best == null || f.target.base.bitsPerWeight() > best.target.base.bitsPerWeight()) {
                best = f;
            }
        }
        return best;
    }
}
