package io.panllm.runtime.chat.jinja;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.el.TruthyTypeConverter;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.lib.tag.Tag;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import jinjava.de.odysseus.el.ExpressionFactoryImpl;
import jinjava.de.odysseus.el.tree.TreeBuilder;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ExpressionFactory;

/**
 * A Jinja template rendered the way Hugging Face renders chat templates: Jinja2 with
 * {@code trim_blocks} and {@code lstrip_blocks}, the globals {@code raise_exception} and
 * {@code strftime_now}, and a {@code tojson} filter that writes Python's json.dumps. Undefined
 * variables are undefined (empty when printed, false when tested), as in Jinja2.
 *
 * <p>The engine is HubSpot's Jinjava with Jinja2's expression grammar where Jinjava's differs
 * ({@link PyParser}) and Python's string methods ({@link PyStrings}).
 */
public final class JinjaTemplate {
    private static final List<String> FUNCTIONS = List.of("raise_exception", "strftime_now");
    private static final Jinjava ENGINE = createEngine();

    private final String source;

    private JinjaTemplate(String source) {
        this.source = source;
    }

    public static JinjaTemplate of(String source) {
        return new JinjaTemplate(Objects.requireNonNull(source, "source"));
    }

    public String source() {
        return source;
    }

    /**
     * Renders the template with these variables (names to Java values: String, Boolean, Number,
     * List, Map, or null).
     *
     * @throws TemplateException with the template's own message when it calls raise_exception,
     *                           else with the line and cause of the first error
     */
    public String render(Map<String, ?> variables) {
        Map<String, Object> context = new HashMap<>();
        // Templates test "strftime_now is defined" before calling it (Llama 3.2): the functions are
        // Jinjava functions, so name them as variables too.
        for (String function : FUNCTIONS) {
            context.put(function, function);
        }
        variables.forEach((name, value) -> {
            if (value != null) {
                context.put(name, value);
            }
        });
        RenderResult result;
        try {
            result = ENGINE.renderForResult(source, context);
        } catch (RaisedException e) {
            throw new TemplateException(e.getMessage());
        } catch (RuntimeException e) {
            throw new TemplateException("chat template: " + e.getMessage());
        }
        for (TemplateError error : result.getErrors()) {
            for (Throwable t = error.getException(); t != null; t = t.getCause()) {
                if (t instanceof RaisedException raised) {
                    throw new TemplateException(raised.getMessage());
                }
            }
        }
        for (TemplateError error : result.getErrors()) {
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new TemplateException("chat template line " + error.getLineno() + ": " + error.getMessage());
            }
        }
        return result.getOutput();
    }

    /** What {@code raise_exception(message)} throws: the template refuses its input. */
    static final class RaisedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        RaisedException(String message) {
            super(message, null, false, false);
        }
    }

    /** The globals Hugging Face defines; public static for Jinjava's function registry. */
    public static final class Globals {
        private Globals() {
        }

        public static Object raiseException(Object message) {
            throw new RaisedException(String.valueOf(message));
        }

        public static String strftimeNow(String format) {
            return Strftime.format(LocalDateTime.now(), format);
        }
    }

    /** Jinjava with Jinja2's parse: its parser swapped for {@link PyParser}, which Jinjava has no setting for. */
    private static final class PyJinjava extends Jinjava {
        private final ExpressionFactory expressions;

        PyJinjava(JinjavaConfig config) {
            super(config);
            Properties properties = new Properties();
            properties.setProperty(TreeBuilder.class.getName(), PyParser.SyntaxBuilder.class.getName());
            expressions = new ExpressionFactoryImpl(properties, new TruthyTypeConverter());
        }

        @Override
        public ExpressionFactory getExpressionFactory() {
            return expressions;
        }
    }

    private static Jinjava createEngine() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PyStringResolver());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        LegacyOverrides jinja2 = LegacyOverrides.newBuilder()
                .withUseNaturalOperatorPrecedence(true)
                .withUseTrimmingForNotesAndExpressions(true)
                .withParseWhitespaceControlStrictly(true)
                .withUsePyishObjectMapper(true)
                .withKeepNullableLoopValues(true)
                .withEvaluateMapKeys(true)
                .withHandleBackslashInQuotesOnly(true)
                .withAllowAdjacentTextNodes(true)
                .build();
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withFailOnUnknownTokens(false)
                .withElResolver(resolver)
                .withInterperterFactory(PyInterpreter.FACTORY)
                .withLegacyOverrides(jinja2)
                .build();
        Jinjava engine = new PyJinjava(config);
        try {
            engine.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                    Globals.class.getMethod("raiseException", Object.class)));
            engine.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now",
                    Globals.class.getMethod("strftimeNow", String.class)));
        } catch (NoSuchMethodException e) {
            throw new AssertionError(e);
        }
        engine.getGlobalContext().registerFilter(new ToJson());
        engine.getGlobalContext().registerFilter(new Trim());
        engine.getGlobalContext().registerFilter(new Items());
        engine.getGlobalContext().registerTag(new PyForTag());
        engine.getGlobalContext().registerTag(new GenerationTag());
        return engine;
    }

    /**
     * transformers' {@code {% generation %}...{% endgeneration %}}, which marks the assistant's
     * part for training masks: it renders its body.
     */
    private static final class GenerationTag implements Tag {
        private static final long serialVersionUID = 1L;

        @Override
        public String getName() {
            return "generation";
        }

        @Override
        public String getEndTagName() {
            return "endgeneration";
        }

        @Override
        public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
            StringBuilder out = new StringBuilder();
            for (Node child : tagNode.getChildren()) {
                out.append(child.render(interpreter).getValue());
            }
            return out.toString();
        }
    }

    /** {@code value | tojson(indent=None, sort_keys=False)} as transformers defines it. */
    private static final class ToJson implements Filter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = kwargs.getOrDefault("indent", args.length > 0 ? args[0] : null);
            boolean sortKeys = Boolean.TRUE.equals(kwargs.get("sort_keys"));
            return PyJson.dumps(var, indent instanceof Number n ? n.intValue() : null, sortKeys);
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return PyJson.dumps(var, null, false);
        }
    }

    /** Jinja2's {@code mapping | items}: the (key, value) pairs, as {@code mapping.items()}. */
    private static final class Items implements Filter {
        @Override
        public String getName() {
            return "items";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return var instanceof Map<?, ?> map ? new ArrayList<Object>(map.entrySet()) : new ArrayList<>();
        }
    }

    /** Jinja2's {@code trim(chars=None)}: Python's str.strip, which knows more white space than Jinjava's. */
    private static final class Trim implements Filter {
        @Override
        public String getName() {
            return "trim";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            if (var == null) {
                return "";
            }
            return PyStrings.strip(var.toString(), args.length > 0 ? args[0] : null, true, true);
        }
    }
}
