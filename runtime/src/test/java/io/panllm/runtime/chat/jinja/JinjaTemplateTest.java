package io.panllm.runtime.chat.jinja;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** Jinja2 semantics the engine must share with Python's jinja2 (expected values as jinja2 3.1 prints them). */
class JinjaTemplateTest {
    private static final Map<String, Object> VARS = Map.of(
            "t", true,
            "msgs", List.of(Map.of("role", "user", "content", "hi"), Map.of("role", "assistant", "content", "yo")));

    private static String render(String template) {
        return JinjaTemplate.of(template).render(VARS);
    }

    @ParameterizedTest
    @CsvSource(delimiterString = " ==> ", quoteCharacter = '`', value = {
            // not binds looser than tests and comparisons
            "{{ not t is defined }} ==> False",
            "{{ not u is defined }} ==> True",
            "{{ not 1 == 2 }} ==> True",
            "{{ t and not false }} ==> True",
            // keyword argument values are whole expressions
            "{{ namespace(a=msgs|length - 1).a }} ==> 1",
            // slices, with steps and negative bounds, on lists and strings
            "{{ [1,2,3][::-1] }} ==> [3, 2, 1]",
            "{{ [1,2,3,4,5][4:0:-2] }} ==> [5, 3]",
            "{{ [1,2,3][-2:] }} ==> [2, 3]",
            "{{ 'abcdef'[1:-1:2] }} ==> bd",
            "{{ 'héllo'[::-1] }} ==> olléh",
            "{{ 'abc'[-1] }}{{ msgs[0].content[0] }} ==> ch",
            // Python's str methods
            "{{ '  a b  '.strip() }} ==> a b",
            "{{ 'xxaxx'.strip('x') }}{{ '\u00a0a'.lstrip() }} ==> aa",
            "{{ 'a.b.c'.split('.') }} ==> ['a', 'b', 'c']",
            "{{ ' a  b '.split() }} ==> ['a', 'b']",
            "{{ 'a.b.c'.split('.', 1) }} ==> ['a', 'b.c']",
            "{{ 'hello'.startswith('he') }}{{ 'hello'.endswith(('x', 'lo')) }} ==> TrueTrue",
            "{{ 'Ab'.upper() }}{{ 'Ab'.lower() }}{{ 'hello world'.title() }} ==> ABabHello World",
            "{{ 'a-b-c'.replace('-', '+', 1) }} ==> a+b-c",
            "{{ '-'.join(['a', 'b']) }} ==> a-b",
            // values print as Python's str
            "{{ true }} {{ false }} {{ 3 }} {{ 1.5 }} {{ 2.0 }} ==> True False 3 1.5 2.0",
            "{{ [1, 'a', none, true, {'k': \"it's\"}] }} ==> [1, 'a', None, True, {'k': \"it's\"}]",
            "{{ undefined_thing }} ==> ``",
            // tojson writes json.dumps
            "{{ {'a': [1, 2], 'b': 'é\"', 'c': none} | tojson }} ==> {\"a\": [1, 2], \"b\": \"é\\\"\", \"c\": null}",
            "{{ 'x' | tojson }} ==> \"x\"",
            // loop filter: loop.index and loop.last count the kept items
            "{% for m in msgs if m.role == 'assistant' %}{{ loop.index }}{{ m.content }}{{ loop.last }}{% endfor %} ==> 1yoTrue",
            "{% for m in msgs if m.content.startswith('h') %}{{ m.role }}{% endfor %} ==> user",
            // namespace, loop controls, whitespace control with trim_blocks/lstrip_blocks
            "{% set ns = namespace(n=0) %}{% for m in msgs %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }} ==> 2",
            "{% for m in msgs %}{{ loop.index0 }}{{ loop.first }}{% endfor %} ==> 0True1False",
            "{{ msgs[-1].role }} ==> assistant",
            "{{ msgs | selectattr('role', 'equalto', 'user') | list | length }} ==> 1",
            // Python's % formatting and * repetition on strings, % on integers with the divisor's sign
            "{{ '%s and %r, %d%%' % ('x', 'y', 3) }} ==> x and 'y', 3%",
            "{{ 'n=%s' % 5 }}{{ 'ab' * 2 }}{{ 3 * 4 }}{{ -7 % 3 }}{{ 7.5 % 2 }}{{ 2 * 1.5 }} ==> n=5abab1221.53.0",
            // mapping pairs print as tuples
            "{{ {'b': 1, 'a': 2} | dictsort }} ==> [('a', 2), ('b', 1)]",
            "{% for k, v in {'b': 1} | items %}{{ k }}={{ v }}{% endfor %}{% for k, v in {'c': 2}.items() %}{{ k }}={{ v }}{% endfor %} ==> b=1c=2",
            // loop controls (HF enables jinja2.ext.loopcontrols)
            "{% for m in msgs %}{% if loop.first %}{% continue %}{% endif %}{{ m.role }}{% break %}{% endfor %} ==> assistant",
            // the HF globals are defined for "is defined" tests; tools is not
            "{{ strftime_now is defined }}{{ raise_exception is defined }}{{ tools is defined }} ==> TrueTrueFalse",
            // transformers' generation block renders its body
            "{% generation %}{{ msgs[1].content }}{% endgeneration %}! ==> yo!",
            "{{ 'a' | trim }}{{ 7 // 2 }}{{ 2 ** 3 }}{{ 'x' in 'xy' }}{{ 'z' not in 'xy' }} ==> a38TrueTrue",
    })
    void rendersAsJinja2(String template, String expected) {
        assertThat(render(template)).isEqualTo(expected);
    }

    @Test
    void whitespaceControlAsHuggingFaceSetsIt() {
        // trim_blocks drops the newline after a block tag, lstrip_blocks the indentation before it
        assertThat(render("{% if t %}\n    a\n    {% endif %}\nb")).isEqualTo("    a\nb");
        assertThat(render("x  {{- 'y' -}}  z\n    {{- 'w' }}")).isEqualTo("xyzw");
        assertThat(render("{# note #}\n{{ 1 }}")).isEqualTo("1");
    }

    @Test
    void raiseExceptionEndsRenderingWithTheTemplatesMessage() {
        assertThatThrownBy(() -> render("a{{ raise_exception('Roles must alternate') }}b"))
                .isInstanceOf(TemplateException.class).hasMessage("Roles must alternate");
    }

    @Test
    void errorsInTheTemplateAreOneLineWithTheLine() {
        assertThatThrownBy(() -> render("ok\n{% if %}")).isInstanceOf(TemplateException.class)
                .hasMessageStartingWith("chat template line 2: ").hasMessageNotContaining("\n");
        assertThatThrownBy(() -> render("{{ 'a'.split('') }}")).isInstanceOf(TemplateException.class)
                .hasMessageContaining("empty separator");
    }

    @Test
    void strftimeNowFormatsTodayAsPython() {
        assertThat(render("{{ strftime_now('%d %b %Y') }}")).matches("[0-3][0-9] [A-Z][a-z]{2} 2[0-9]{3}");
    }
}
