package io.panllm.cli;

import java.lang.reflect.Field;
import java.util.Arrays;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/** Checks the {@link Range} of every option of the commands in a parse result, defaults included. */
final class RangeCheck {
    private RangeCheck() {
    }

    /** @throws CommandLine.ParameterException naming the first option whose value is out of its range */
    static void check(ParseResult parsed) {
        for (ParseResult p = parsed; p != null; p = p.subcommand()) {
            for (ArgSpec arg : p.commandSpec().args()) {
                if (arg.userObject() instanceof Field field && field.getAnnotation(Range.class) instanceof Range range
                        && arg.getValue() instanceof Number value && !accepts(range, value.doubleValue())) {
                    throw new CommandLine.ParameterException(p.commandSpec().commandLine(), "invalid value for "
                            + name(arg) + ": " + typed(arg, value) + " (" + describe(range) + ")");
                }
            }
        }
    }

    static boolean accepts(Range range, double v) {
        if (!Double.isFinite(v)) {
            return false;
        }
        for (long also : range.also()) {
            if (v == also) {
                return true;
            }
        }
        return (range.minExclusive() ? v > range.min() : v >= range.min()) && v <= range.max();
    }

    /** E.g. "must be at least 0, or -1", "must be above 0 and at most 1". */
    static String describe(Range range) {
        String low = range.min() == Double.NEGATIVE_INFINITY ? null
                : (range.minExclusive() ? "above " : "at least ") + number(range.min());
        String high = range.max() == Double.POSITIVE_INFINITY ? null : "at most " + number(range.max());
        String text = low != null && high != null ? low + " and " + high : low != null ? low : high != null ? high : "finite";
        if (range.also().length > 0) {
            text += ", or " + Arrays.stream(range.also()).mapToObj(Long::toString).collect(Collectors.joining(" or "));
        }
        return "must be " + text;
    }

    private static String number(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    /** The value as the user wrote it (a float option's 2 is "2", not "2.0"), or the default. */
    private static String typed(ArgSpec arg, Number value) {
        var typed = arg.originalStringValues();
        return typed.isEmpty() ? value.toString() : typed.get(typed.size() - 1);
    }

    private static String name(ArgSpec arg) {
        return arg instanceof OptionSpec o ? String.join("/", o.names()) : arg.paramLabel();
    }
}
