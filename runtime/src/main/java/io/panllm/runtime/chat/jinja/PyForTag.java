package io.panllm.runtime.chat.jinja;

import com.hubspot.jinjava.interpret.InterpretException;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.JinjavaInterpreter.InterpreterScopeClosable;
import com.hubspot.jinjava.lib.tag.ForTag;
import com.hubspot.jinjava.tree.TagNode;
import com.hubspot.jinjava.tree.parse.TagToken;
import com.hubspot.jinjava.util.ForLoop;
import com.hubspot.jinjava.util.ObjectIterator;
import com.hubspot.jinjava.util.ObjectTruthValue;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.commons.lang3.tuple.Pair;

/**
 * Jinjava's for tag with Jinja2's loop filter, {@code {% for m in messages if m.role == 'user' %}}:
 * the items the condition rejects are skipped before the loop (so {@code loop.index},
 * {@code loop.last} count only the others). Jinjava would read "messages if ..." as a
 * conditional expression and loop over nothing.
 */
final class PyForTag extends ForTag {
    private static final long serialVersionUID = 1L;

    @Override
    public String interpretUnchecked(TagNode tagNode, JinjavaInterpreter interpreter) {
        Pair<List<String>, String> varsAndExpression = getLoopVarsAndExpression((TagToken) tagNode.getMaster());
        String expression = varsAndExpression.getRight();
        int filterAt = topLevelIf(expression);
        if (filterAt < 0) {
            return super.interpretUnchecked(tagNode, interpreter);
        }
        List<String> vars = varsAndExpression.getLeft();
        String condition = expression.substring(filterAt + 2).trim();
        Object collection = interpreter.resolveELExpression(expression.substring(0, filterAt).trim(), tagNode.getLineNumber());
        List<Object> kept = new ArrayList<>();
        ForLoop items = ObjectIterator.getLoop(collection);
        while (items.hasNext()) {
            Object item = items.next();
            try (InterpreterScopeClosable scope = interpreter.enterScope()) {
                bind(interpreter, vars, item, tagNode);
                if (ObjectTruthValue.evaluate(interpreter.resolveELExpression(condition, tagNode.getLineNumber()))) {
                    kept.add(item);
                }
            }
        }
        return renderForCollection(tagNode, interpreter, vars, kept);
    }

    /** The loop variables for one item: the item itself, or its parts for {@code for k, v in ...}. */
    private static void bind(JinjavaInterpreter interpreter, List<String> vars, Object item, TagNode tagNode) {
        if (vars.size() == 1) {
            interpreter.getContext().put(vars.getFirst(), item);
            return;
        }
        List<?> parts = switch (item) {
            case Map.Entry<?, ?> e -> List.of(e.getKey(), e.getValue());
            case List<?> list -> list;
            default -> throw new InterpretException("cannot unpack " + item + " into " + vars, tagNode.getLineNumber());
        };
        for (int i = 0; i < vars.size(); i++) {
            interpreter.getContext().put(vars.get(i), i < parts.size() ? parts.get(i) : null);
        }
    }

    /**
     * Where the word "if" starts outside quotes and brackets, or -1. The iterable of a Jinja2 for
     * loop is parsed without conditional expressions, so such an "if" always starts the filter.
     */
    static int topLevelIf(String expression) {
        int depth = 0;
        char quote = 0;
        for (int i = 0; i < expression.length(); i++) {
            char c = expression.charAt(i);
            if (quote != 0) {
                if (c == '\\') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                depth--;
            } else if (depth == 0 && expression.startsWith("if", i) && boundary(expression, i - 1)
                    && boundary(expression, i + 2)) {
                return i;
            }
        }
        return -1;
    }

    private static boolean boundary(String s, int i) {
        return i < 0 || i >= s.length() || Character.isWhitespace(s.charAt(i)) || s.charAt(i) == '(';
    }
}
