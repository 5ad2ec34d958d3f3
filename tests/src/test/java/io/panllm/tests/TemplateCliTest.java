package io.panllm.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code panllm template}: the exact text transformers renders, or the template's error with exit code 1. */
class TemplateCliTest {
    @TempDir
    static Path dir;

    @SuppressWarnings("unchecked")
    static Stream<Map<String, Object>> cases() throws IOException {
        return new ObjectMapper().readValue(Cli.data("chat-templates/cases.json").toFile(), List.class).stream();
    }

    @ParameterizedTest(name = "{index}: {0}")
    @MethodSource("cases")
    void printsWhatTransformersRenders(Map<String, Object> c) throws IOException {
        Path messages = Files.createTempFile(dir, "messages", ".json");
        new ObjectMapper().writeValue(messages.toFile(), c.get("messages"));
        List<String> args = new ArrayList<>(List.of("template", "--template", Cli.data("chat-templates/" + c.get("template")).toString(),
                "--messages", messages.toString(), "--bos-token", (String) c.get("bos_token"), "--eos-token", (String) c.get("eos_token"),
                "--var", "date_string=" + c.get("date_string")));
        if ((Boolean) c.get("add_generation_prompt")) {
            args.add("--add-generation-prompt");
        }
        Cli.Result r = Cli.run(args.toArray(String[]::new));
        if (c.containsKey("expected_error")) {
            assertThat(r.exitCode()).isEqualTo(1);
            assertThat(r.out()).isEmpty();
            assertThat(r.err()).isEqualTo("panllm template: error: " + c.get("expected_error") + System.lineSeparator());
        } else {
            assertThat(r.err()).isEmpty();
            assertThat(r.exitCode()).isZero();
            assertThat(r.out()).isEqualTo(c.get("expected"));
        }
    }

    @Test
    void theModelsOwnTemplateWithItsTokensAndVariablesAsJson() throws IOException {
        Path messages = dir.resolve("hi.json");
        Files.writeString(messages, "[{\"role\": \"user\", \"content\": \"Hi\"}]");
        Cli.Result phi3 = Cli.run("template", "-m", Cli.data("gguf/vocab/ggml-vocab-phi-3.gguf").toString(), "--messages", messages.toString());
        assertThat(phi3.exitCode()).isZero();
        assertThat(phi3.out()).isEqualTo("<s><|user|>\nHi<|end|>\n<|assistant|>\n"); // llama.cpp's phi-3 vocab template

        Path qwen3 = Cli.data("chat-templates/Qwen-Qwen3-0.6B.jinja");
        Cli.Result thinkingOff = Cli.run("template", "--template", qwen3.toString(), "--messages", messages.toString(),
                "--add-generation-prompt", "--var", "enable_thinking=false");
        assertThat(thinkingOff.out()).endsWith("<|im_start|>assistant\n<think>\n\n</think>\n\n");
        Cli.Result textVar = Cli.run("template", "--template", qwen3.toString(), "--messages", messages.toString(),
                "--add-generation-prompt", "--var", "enable_thinking=no");
        assertThat(textVar.out()).endsWith("<|im_start|>assistant\n"); // a string is not `false`
    }

    @Test
    void badInputIsOneLineWithExitCodeOne() throws IOException {
        Path template = dir.resolve("t.jinja");
        Files.writeString(template, "{{ messages[0].content }}");
        Path notJson = dir.resolve("bad.json");
        Files.writeString(notJson, "[{\"role\": ");
        Path notList = dir.resolve("obj.json");
        Files.writeString(notList, "{\"role\": \"user\"}");
        for (Path bad : List.of(notJson, notList)) {
            Cli.Result r = Cli.run("template", "--template", template.toString(), "--messages", bad.toString());
            assertThat(r.exitCode()).isEqualTo(1);
            assertThat(r.err().strip().lines()).hasSize(1);
            assertThat(r.err()).contains(bad.getFileName().toString()).doesNotContain("Exception");
        }
        Path broken = dir.resolve("broken.jinja");
        Files.writeString(broken, "line one\n{% if %}");
        Cli.Result r = Cli.run("template", "--template", broken.toString(), "--messages", notList.toString().replace("obj", "bad"));
        assertThat(r.exitCode()).isEqualTo(1);
        Files.writeString(notList, "[]");
        r = Cli.run("template", "--template", broken.toString(), "--messages", notList.toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).startsWith("panllm template: error: chat template line 2: ").doesNotContain("\tat ");
        assertThat(r.err().strip().lines()).hasSize(1);
        Cli.Result noTemplate = Cli.run("template", "-m", Cli.data("gguf/vocab/ggml-vocab-gpt-2.gguf").toString(), "--messages", notList.toString());
        assertThat(noTemplate.exitCode()).isEqualTo(1);
        assertThat(noTemplate.err()).contains("no chat template");
        assertThat(Cli.run("template", "--messages", notList.toString()).exitCode()).isEqualTo(2);
    }
}
