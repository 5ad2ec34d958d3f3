package io.panllm.runtime.chat.jinja;

import com.hubspot.jinjava.objects.collections.PyList;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import jinjava.javax.el.ELException;

/**
 * The methods of Python's {@code str} that chat templates call ({@code content.strip()},
 * {@code .startswith(...)}, {@code .split(...)}, ...), with Python's semantics: Java's String has
 * some of the same names with other meanings ({@code split} takes a regex, {@code strip} another
 * notion of white space), so these are looked up first.
 */
final class PyStrings {
    private PyStrings() {
    }

    /** The result of {@code s.name(args)}, or empty when str has no such method here. */
    static Optional<Object> call(String s, String name, Object[] args) {
        Object result = switch (name) {
            case "strip" -> strip(s, chars(name, args), true, true);
            case "lstrip" -> strip(s, chars(name, args), true, false);
            case "rstrip" -> strip(s, chars(name, args), false, true);
            case "startswith" -> affix(s, name, args, true);
            case "endswith" -> affix(s, name, args, false);
            case "split" -> split(s, name, args);
            case "lower" -> noArgs(name, args, s.toLowerCase(Locale.ROOT));
            case "upper" -> noArgs(name, args, s.toUpperCase(Locale.ROOT));
            case "capitalize" -> noArgs(name, args, s.isEmpty() ? s
                    : s.substring(0, s.offsetByCodePoints(0, 1)).toUpperCase(Locale.ROOT)
                    + s.substring(s.offsetByCodePoints(0, 1)).toLowerCase(Locale.ROOT));
            case "title" -> noArgs(name, args, title(s));
            case "replace" -> replace(s, name, args);
            case "find" -> (long) s.indexOf(string(name, args, 0));
            case "count" -> count(s, string(name, args, 0));
            case "join" -> join(s, name, args);
            case "isspace" -> noArgs(name, args, !s.isEmpty() && s.codePoints().allMatch(PyStrings::isSpace));
            case "isdigit" -> noArgs(name, args, !s.isEmpty() && s.codePoints().allMatch(Character::isDigit));
            case "isalpha" -> noArgs(name, args, !s.isEmpty() && s.codePoints().allMatch(Character::isLetter));
            default -> null;
        };
        return Optional.ofNullable(result);
    }

    /** Python's str.isspace for one character (Java's isWhitespace leaves out the no-break spaces). */
    static boolean isSpace(int c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0x85;
    }

    /** str.strip / lstrip / rstrip: white space, or the characters of {@code chars} when given. */
    static String strip(String s, String chars, boolean left, boolean right) {
        int begin = 0;
        int end = s.length();
        while (left && begin < end && strippable(s.codePointAt(begin), chars)) {
            begin += Character.charCount(s.codePointAt(begin));
        }
        while (right && end > begin && strippable(s.codePointBefore(end), chars)) {
            end -= Character.charCount(s.codePointBefore(end));
        }
        return s.substring(begin, end);
    }

    private static boolean strippable(int c, String chars) {
        return chars == null ? isSpace(c) : chars.indexOf(c) >= 0;
    }

    private static String chars(String name, Object[] args) {
        return args.length == 0 || args[0] == null ? null : string(name, args, 0);
    }

    private static boolean affix(String s, String name, Object[] args, boolean prefix) {
        if (args.length != 1) {
            throw new ELException(name + "() takes exactly one argument (" + args.length + " given)");
        }
        List<String> options = new ArrayList<>();
        if (args[0] instanceof Collection<?> c) {
            c.forEach(o -> options.add(String.valueOf(o)));
        } else {
            options.add(string(name, args, 0));
        }
        return options.stream().anyMatch(o -> prefix ? s.startsWith(o) : s.endsWith(o));
    }

    private static PyList split(String s, String name, Object[] args) {
        String separator = args.length == 0 || args[0] == null ? null : string(name, args, 0);
        long max = args.length > 1 && args[1] instanceof Number n ? n.longValue() : -1;
        List<Object> parts = new ArrayList<>();
        if (separator == null) {
            int i = 0;
            while (true) {
                while (i < s.length() && isSpace(s.codePointAt(i))) {
                    i += Character.charCount(s.codePointAt(i));
                }
                if (i >= s.length()) {
                    break;
                }
                if (max >= 0 && parts.size() == max) {
                    parts.add(strip(s.substring(i), null, false, true));
                    break;
                }
                int j = i;
                while (j < s.length() && !isSpace(s.codePointAt(j))) {
                    j += Character.charCount(s.codePointAt(j));
                }
                parts.add(s.substring(i, j));
                i = j;
            }
            return new PyList(parts);
        }
        if (separator.isEmpty()) {
            throw new ELException("empty separator");
        }
        int from = 0;
        int at;
        while ((max < 0 || parts.size() < max) && (at = s.indexOf(separator, from)) >= 0) {
            parts.add(s.substring(from, at));
            from = at + separator.length();
        }
        parts.add(s.substring(from));
        return new PyList(parts);
    }

    private static String replace(String s, String name, Object[] args) {
        String old = string(name, args, 0);
        String with = string(name, args, 1);
        long count = args.length > 2 && args[2] instanceof Number n ? n.longValue() : -1;
        if (count < 0) {
            return s.replace(old, with);
        }
        StringBuilder out = new StringBuilder();
        int from = 0;
        for (long k = 0; k < count; k++) {
            int at = s.indexOf(old, from);
            if (at < 0) {
                break;
            }
            out.append(s, from, at).append(with);
            from = at + old.length();
        }
        return out.append(s.substring(from)).toString();
    }

    private static long count(String s, String part) {
        if (part.isEmpty()) {
            return s.codePointCount(0, s.length()) + 1L;
        }
        long n = 0;
        for (int at = s.indexOf(part); at >= 0; at = s.indexOf(part, at + part.length())) {
            n++;
        }
        return n;
    }

    private static String join(String s, String name, Object[] args) {
        if (args.length != 1 || !(args[0] instanceof Iterable<?> items)) {
            throw new ELException(name + "() takes one iterable argument");
        }
        List<String> parts = new ArrayList<>();
        items.forEach(o -> parts.add(String.valueOf(o)));
        return String.join(s, parts);
    }

    private static String title(String s) {
        StringBuilder out = new StringBuilder();
        boolean inWord = false;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            out.appendCodePoint(inWord ? Character.toLowerCase(c) : Character.toTitleCase(c));
            inWord = Character.isLetter(c);
            i += Character.charCount(c);
        }
        return out.toString();
    }

    private static Object noArgs(String name, Object[] args, Object result) {
        if (args.length != 0) {
            throw new ELException(name + "() takes no arguments (" + args.length + " given)");
        }
        return result;
    }

    private static String string(String name, Object[] args, int i) {
        if (i >= args.length || !(args[i] instanceof String s)) {
            throw new ELException(name + "() argument " + (i + 1) + " must be str");
        }
        return s;
    }
}
