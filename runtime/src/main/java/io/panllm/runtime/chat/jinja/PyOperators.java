package io.panllm.runtime.chat.jinja;

import java.util.List;
import java.util.Locale;
import jinjava.de.odysseus.el.misc.NumberOperations;
import jinjava.de.odysseus.el.misc.TypeConverter;
import jinjava.de.odysseus.el.tree.impl.ast.AstBinary;
import jinjava.javax.el.ELException;

/**
 * Python's meaning of {@code %} and {@code *} where it differs from EL's: {@code 'a %s' % x}
 * formats, {@code 'ab' * 3} repeats, and {@code %} on integers takes the sign of the divisor.
 */
final class PyOperators {
    private PyOperators() {
    }

    static final AstBinary.Operator MOD = new AstBinary.SimpleOperator() {
        @Override
        protected Object apply(TypeConverter converter, Object a, Object b) {
            if (a instanceof String format) {
                return format(format, b instanceof List<?> tuple ? tuple : List.of(b == null ? "None" : b));
            }
            if (isIntegral(a) && isIntegral(b) && ((Number) b).longValue() != 0) {
                return Math.floorMod(((Number) a).longValue(), ((Number) b).longValue());
            }
            return NumberOperations.mod(converter, a, b);
        }

        @Override
        public String toString() {
            return "%";
        }
    };

    static final AstBinary.Operator MUL = new AstBinary.SimpleOperator() {
        @Override
        protected Object apply(TypeConverter converter, Object a, Object b) {
            if (a instanceof String s && isIntegral(b)) {
                return s.repeat((int) Math.max(0, ((Number) b).longValue()));
            }
            if (b instanceof String s && isIntegral(a)) {
                return s.repeat((int) Math.max(0, ((Number) a).longValue()));
            }
            return NumberOperations.mul(converter, a, b);
        }

        @Override
        public String toString() {
            return "*";
        }
    };

    private static boolean isIntegral(Object o) {
        return o instanceof Long || o instanceof Integer || o instanceof Short || o instanceof Byte;
    }

    /** printf-style formatting as Python's str % tuple: %s, %r, %d, %i, %f (with a precision), %%. */
    static String format(String format, List<?> args) {
        StringBuilder out = new StringBuilder();
        int next = 0;
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%') {
                out.append(c);
                continue;
            }
            int j = i + 1;
            while (j < format.length() && (Character.isDigit(format.charAt(j)) || format.charAt(j) == '.')) {
                j++;
            }
            if (j >= format.length()) {
                throw new ELException("incomplete format");
            }
            String precision = format.substring(i + 1, j);
            char conversion = format.charAt(j);
            i = j;
            if (conversion == '%') {
                out.append('%');
                continue;
            }
            if (next >= args.size()) {
                throw new ELException("not enough arguments for format string");
            }
            Object arg = args.get(next++);
            out.append(switch (conversion) {
                case 's' -> PyRepr.str(arg == null ? "None" : arg);
                case 'r' -> PyRepr.repr(arg);
                case 'd', 'i' -> Long.toString(((Number) arg).longValue());
                case 'f' -> String.format(Locale.ROOT, "%" + (precision.isEmpty() ? ".6" : precision) + "f", ((Number) arg).doubleValue());
                default -> throw new ELException("unsupported format character '" + conversion + "'");
            });
        }
        if (next < args.size()) {
            throw new ELException("not all arguments converted during string formatting");
        }
        return out.toString();
    }
}
