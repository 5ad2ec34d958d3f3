package io.panllm.runtime.chat.jinja;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The real chat templates of eight model families against the text transformers 5.18 renders for
 * them (or the error they raise), byte for byte: ../shared/data/chat-templates/cases.json.
 */
class JinjaTemplateCasesTest {
    private static final Path DIR = Path.of(System.getProperty("panllm.data", "../shared/data")).resolve("chat-templates");

    @SuppressWarnings("unchecked")
    static Stream<Map<String, Object>> cases() throws IOException {
        List<Map<String, Object>> cases = new ObjectMapper().readValue(DIR.resolve("cases.json").toFile(), List.class);
        assertThat(cases).hasSize(40);
        return cases.stream();
    }

    @ParameterizedTest(name = "{index}: {0}")
    @MethodSource("cases")
    void rendersAsTransformers(Map<String, Object> c) throws IOException {
        JinjaTemplate template = JinjaTemplate.of(Files.readString(DIR.resolve((String) c.get("template"))));
        Map<String, Object> vars = new HashMap<>();
        vars.put("messages", c.get("messages"));
        vars.put("add_generation_prompt", c.get("add_generation_prompt"));
        vars.put("bos_token", c.get("bos_token"));
        vars.put("eos_token", c.get("eos_token"));
        vars.put("date_string", c.get("date_string"));
        if (c.containsKey("expected_error")) {
            assertThatThrownBy(() -> template.render(vars)).isInstanceOf(TemplateException.class)
                    .hasMessage((String) c.get("expected_error"));
        } else {
            assertThat(template.render(vars)).isEqualTo(c.get("expected"));
        }
    }
}
