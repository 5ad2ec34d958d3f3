package io.panllm.runtime.chat.jinja;

import java.util.Map;

/**
 * JSON as Python's {@code json.dumps(value, ensure_ascii=False, indent=indent, sort_keys=...)}
 * writes it, which is what transformers' {@code tojson} filter uses: ", " and ": " between items
 * (",", ": " with an indent), non-ASCII characters as they are.
 */
final class PyJson {
    private PyJson() {
    }

    static String dumps(Object value, Integer indent, boolean sortKeys) {
        StringBuilder out = new StringBuilder();
        write(out, value, indent, sortKeys, 0);
        return out.toString();
    }

    private static void write(StringBuilder out, Object value, Integer indent, boolean sortKeys, int depth) {
        switch (value) {
            case null -> out.append("null");
            case Boolean b -> out.append(b ? "true" : "false");
            case Double d -> out.append(PyRepr.floatRepr(d));
            case Float f -> out.append(PyRepr.floatRepr(f.doubleValue()));
            case Number n -> out.append(n);
            case CharSequence s -> string(out, s.toString());
            case Map<?, ?> map -> {
                var entries = map.entrySet().stream();
                if (sortKeys) {
                    entries = entries.sorted((a, b) -> String.valueOf(a.getKey()).compareTo(String.valueOf(b.getKey())));
                }
                var list = entries.toList();
                if (list.isEmpty()) {
                    out.append("{}");
                    return;
                }
                out.append('{');
                for (int i = 0; i < list.size(); i++) {
                    separate(out, i, indent, depth + 1);
                    string(out, String.valueOf(list.get(i).getKey()));
                    out.append(": ");
                    write(out, list.get(i).getValue(), indent, sortKeys, depth + 1);
                }
                close(out, indent, depth, '}');
            }
            case Iterable<?> items -> {
                int i = 0;
                out.append('[');
                for (Object item : items) {
                    separate(out, i++, indent, depth + 1);
                    write(out, item, indent, sortKeys, depth + 1);
                }
                if (i == 0) {
                    out.append(']');
                } else {
                    close(out, indent, depth, ']');
                }
            }
            case Object[] array -> write(out, java.util.Arrays.asList(array), indent, sortKeys, depth);
            default -> string(out, value.toString());
        }
    }

    private static void separate(StringBuilder out, int index, Integer indent, int depth) {
        if (index > 0) {
            out.append(indent == null ? ", " : ",");
        }
        if (indent != null) {
            out.append('\n').append(" ".repeat(indent * depth));
        }
    }

    private static void close(StringBuilder out, Integer indent, int depth, char bracket) {
        if (indent != null) {
            out.append('\n').append(" ".repeat(indent * depth));
        }
        out.append(bracket);
    }

    private static void string(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
