package io.panllm.runtime.chat.jinja;

import jinjava.de.odysseus.el.tree.Bindings;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.de.odysseus.el.tree.impl.ast.AstRightValue;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELException;

/** {@code base[start:stop:step]}, any part optional, evaluated as Python slices a list or a string. */
final class AstSlice extends AstRightValue {
    private final AstNode base;
    private final AstNode start;
    private final AstNode stop;
    private final AstNode step;

    AstSlice(AstNode base, AstNode start, AstNode stop, AstNode step) {
        this.base = base;
        this.start = start;
        this.stop = stop;
        this.step = step;
    }

    @Override
    public Object eval(Bindings bindings, ELContext context) {
        Object sequence = base.eval(bindings, context);
        return PySlice.of(sequence, index(start, bindings, context), index(stop, bindings, context),
                index(step, bindings, context));
    }

    private static Long index(AstNode node, Bindings bindings, ELContext context) {
        if (node == null) {
            return null;
        }
        Object value = node.eval(bindings, context);
        if (value == null) {
            return null;
        }
        if (value instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
            return n.longValue();
        }
        throw new ELException("slice indices must be integers or None, not '" + value + "'");
    }

    @Override
    public void appendStructure(StringBuilder b, Bindings bindings) {
        base.appendStructure(b, bindings);
        b.append('[');
        appendPart(b, start, bindings);
        b.append(':');
        appendPart(b, stop, bindings);
        if (step != null) {
            b.append(':');
            step.appendStructure(b, bindings);
        }
        b.append(']');
    }

    private static void appendPart(StringBuilder b, AstNode node, Bindings bindings) {
        if (node != null) {
            node.appendStructure(b, bindings);
        }
    }

    @Override
    public int getCardinality() {
        return 4;
    }

    @Override
    public AstNode getChild(int i) {
        return switch (i) {
            case 0 -> base;
            case 1 -> start;
            case 2 -> stop;
            case 3 -> step;
            default -> null;
        };
    }

    @Override
    public String toString() {
        return "[:]";
    }
}
