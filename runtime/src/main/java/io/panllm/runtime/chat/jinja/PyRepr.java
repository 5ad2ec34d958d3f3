package io.panllm.runtime.chat.jinja;

import java.util.Map;

/** Python's {@code str()} and {@code repr()} of template values: what {@code {{ value }}} prints in Jinja2. */
final class PyRepr {
    private PyRepr() {
    }

    /** str(value); null (undefined or None alike, Jinjava cannot tell them apart) prints as nothing, as undefined does. */
    static String str(Object value) {
        return switch (value) {
            case null -> "";
            case CharSequence s -> s.toString();
            default -> repr(value);
        };
    }

    static String repr(Object value) {
        return switch (value) {
            case null -> "None";
            case Boolean b -> b ? "True" : "False";
            case Double d -> floatRepr(d);
            case Float f -> floatRepr(f.doubleValue());
            case Number n -> n.toString();
            case CharSequence s -> quote(s.toString());
            case Map.Entry<?, ?> e -> "(" + repr(e.getKey()) + ", " + repr(e.getValue()) + ")";
            case Map<?, ?> map -> {
                StringBuilder out = new StringBuilder("{");
                for (var e : map.entrySet()) {
                    out.append(out.length() > 1 ? ", " : "").append(repr(e.getKey())).append(": ").append(repr(e.getValue()));
                }
                yield out.append('}').toString();
            }
            case Iterable<?> items -> {
                StringBuilder out = new StringBuilder("[");
                for (Object item : items) {
                    out.append(out.length() > 1 ? ", " : "").append(repr(item));
                }
                yield out.append(']').toString();
            }
            default -> value.toString();
        };
    }

    /** Python's float repr: integral values keep ".0", exponents read "1e+20". */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        String s = Double.toString(d);
        int e = s.indexOf('E');
        if (e < 0) {
            return s;
        }
        String mantissa = s.substring(0, e).replaceAll("\\.0$", "");
        int exponent = Integer.parseInt(s.substring(e + 1));
        return mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
    }

    /** repr of a str: single quotes unless the text has one and no double quote. */
    private static String quote(String s) {
        char q = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        StringBuilder out = new StringBuilder().append(q);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c == q) {
                        out.append('\\').append(c);
                    } else if (c < 0x20 || c == 0x7f) {
                        out.append(String.format("\\x%02x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append(q).toString();
    }
}
