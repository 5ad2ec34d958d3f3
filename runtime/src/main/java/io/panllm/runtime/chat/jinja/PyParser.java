package io.panllm.runtime.chat.jinja;

import com.hubspot.jinjava.el.ExtendedSyntaxBuilder;
import com.hubspot.jinjava.el.ext.AdditionOperator;
import com.hubspot.jinjava.el.ext.ExtendedParser;
import com.hubspot.jinjava.el.ext.NamedParameterOperator;
import jinjava.de.odysseus.el.tree.impl.Builder;
import jinjava.de.odysseus.el.tree.impl.Parser;
import jinjava.de.odysseus.el.tree.impl.Scanner.ScanException;
import jinjava.de.odysseus.el.tree.impl.Scanner.Symbol;
import jinjava.de.odysseus.el.tree.impl.ast.AstBinary;
import jinjava.de.odysseus.el.tree.impl.ast.AstBracket;
import jinjava.de.odysseus.el.tree.impl.ast.AstDot;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.de.odysseus.el.tree.impl.ast.AstUnary;

/**
 * Jinjava's expression parser with the three places where it reads Jinja2 differently fixed, as
 * Jinja2's grammar has them (templates from Hugging Face use all three):
 * <ul>
 *   <li>{@code not} binds looser than comparisons and tests: {@code not x is defined} is
 *       {@code not (x is defined)}, not {@code (not x) is defined};</li>
 *   <li>a keyword argument's value is a whole expression: {@code namespace(i=messages|length - 1)};</li>
 *   <li>slices take a step: {@code messages[::-1]}, {@code s[1:-1:2]} (Python semantics, see {@link PySlice});</li>
 *   <li>{@code %} and {@code *} on strings format and repeat ({@link PyOperators}).</li>
 * </ul>
 * Everything else is Jinjava's, with its natural operator precedence switched on ({@link JinjaTemplate}).
 */
final class PyParser extends ExtendedParser {

    /** Plugged into Jinjava's expression factory by class name. */
    public static final class SyntaxBuilder extends ExtendedSyntaxBuilder {
        private static final long serialVersionUID = 1L;

        public SyntaxBuilder(Feature... features) {
            super(features);
        }

        @Override
        protected Parser createParser(String expression) {
            return new PyParser(this, expression);
        }
    }

    PyParser(Builder context, String input) {
        super(context, input);
    }

    @Override
    protected AstNode eq(boolean required) throws ScanException, ParseException {
        if (getToken().getSymbol() == Symbol.NOT) {
            consumeToken();
            return createAstUnary(eq(true), AstUnary.NOT);
        }
        return super.eq(required);
    }

    @Override
    protected AstNode add(boolean required) throws ScanException, ParseException {
        AstNode v = mul(required);
        if (v == null) {
            return null;
        }
        while (true) {
            switch (getToken().getSymbol()) {
                case PLUS -> {
                    consumeToken();
                    v = createAstBinary(v, mul(true), AdditionOperator.OP);
                }
                case MINUS -> {
                    consumeToken();
                    v = createAstBinary(v, mul(true), AstBinary.SUB);
                }
                case EXTENSION -> {
                    ExtensionHandler handler = getExtensionHandler(getToken());
                    if (handler == NamedParameterOperator.HANDLER) {
                        consumeToken();
                        return handler.createAstNode(v, expr(true));
                    }
                    if (handler.getExtensionPoint() != ExtensionPoint.ADD) {
                        return v;
                    }
                    consumeToken();
                    v = handler.createAstNode(v, mul(true));
                }
                default -> {
                    return v;
                }
            }
        }
    }

    @Override
    protected AstBinary createAstBinary(AstNode left, AstNode right, AstBinary.Operator operator) {
        AstBinary.Operator python = operator == AstBinary.MOD ? PyOperators.MOD : operator == AstBinary.MUL ? PyOperators.MUL : operator;
        return super.createAstBinary(left, right, python);
    }

    /** Jinjava's value() (member access, calls, subscripts) with Python's three-part slices. */
    @Override
    protected AstNode value() throws ScanException, ParseException {
        boolean lvalue = true;
        AstNode v = nonliteral();
        if (v == null) {
            v = literal();
            if (v == null) {
                return null;
            }
            lvalue = false;
        }
        boolean calls = context.isEnabled(Builder.Feature.METHOD_INVOCATIONS);
        while (true) {
            switch (getToken().getSymbol()) {
                case DOT -> {
                    consumeToken();
                    AstDot dot = createAstDot(v, consumeToken(Symbol.IDENTIFIER).getImage(), lvalue);
                    v = getToken().getSymbol() == Symbol.LPAREN && calls ? createAstMethod(dot, params()) : dot;
                }
                case LBRACK -> {
                    consumeToken();
                    AstNode start = expr(false);
                    if (getToken().getSymbol() == Symbol.COLON) {
                        consumeToken();
                        AstNode stop = expr(false);
                        AstNode step = null;
                        if (getToken().getSymbol() == Symbol.COLON) {
                            consumeToken();
                            step = expr(false);
                        }
                        consumeToken(Symbol.RBRACK);
                        v = new AstSlice(v, start, stop, step);
                    } else {
                        if (start == null) {
                            fail("an index");
                        }
                        consumeToken(Symbol.RBRACK);
                        boolean strict = !context.isEnabled(Builder.Feature.NULL_PROPERTIES);
                        AstBracket bracket = createAstBracket(v, start, lvalue, strict);
                        v = getToken().getSymbol() == Symbol.LPAREN && calls ? createAstMethod(bracket, params()) : bracket;
                    }
                }
                default -> {
                    return v;
                }
            }
        }
    }
}
