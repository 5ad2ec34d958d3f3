package io.panllm.cli;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The values a numeric option accepts. {@link RangeCheck} checks every option of the command
 * about to run against it, so a value out of range is a usage error (exit 2) naming the flag,
 * before the command opens anything. NaN and infinities are always refused.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
@interface Range {
    double min() default Double.NEGATIVE_INFINITY;

    double max() default Double.POSITIVE_INFINITY;

    /** Whether {@link #min()} itself is refused (e.g. top-p must be above 0). */
    boolean minExclusive() default false;

    /** Values accepted outside the range, such as -1 for "all" or "unlimited". */
    long[] also() default {};
}
