package io.panllm.runtime.chat.jinja;

import java.beans.FeatureDescriptor;
import java.util.Iterator;
import java.util.Optional;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/** Resolves method calls on strings to {@link PyStrings} before Jinjava's resolvers see them. */
final class PyStringResolver extends ELResolver {

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
        return null;
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
