package io.panllm.runtime.chat.jinja;

import java.beans.FeatureDescriptor;
import java.util.Iterator;
import java.util.Optional;
import java.util.regex.Pattern;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * Strings as Python has them, before Jinjava's resolvers see them: method calls go to
 * {@link PyStrings}, {@code s[i]} is the i-th character (negative from the end; out of range:
 * undefined, as in Jinja2).
 */
final class PyStringResolver extends ELResolver {
    private static final Pattern INDEX = Pattern.compile("-?[0-9]{1,9}");

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (!(base instanceof String s) || method == null) {
            return null;
        }
        Optional<Object> result = PyStrings.call(s, method.toString(), params == null ? new Object[0] : params);
        if (result.isEmpty()) {
            return null;
        }
        context.setPropertyResolved(true);
        return result.get();
    }

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        // Jinjava hands the index over as text ("0", "-1").
        if (!(base instanceof String s) || property == null || !INDEX.matcher(property.toString()).matches()) {
            return null;
        }
        context.setPropertyResolved(true);
        int length = s.codePointCount(0, s.length());
        long index = Long.parseLong(property.toString());
        long i = index < 0 ? index + length : index;
        if (i < 0 || i >= length) {
            return null;
        }
        int at = s.offsetByCodePoints(0, (int) i);
        return s.substring(at, s.offsetByCodePoints(at, 1));
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return false;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }
}
