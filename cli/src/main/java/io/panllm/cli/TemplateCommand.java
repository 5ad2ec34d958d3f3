package io.panllm.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.panllm.gguf.GgufFile;
import io.panllm.runtime.chat.JinjaChatTemplate;
import io.panllm.runtime.tokenizer.GgufTokenizerMetadata;
import io.panllm.runtime.tokenizer.HfTokenizerConfig;
import io.panllm.runtime.tokenizer.SpecialTokens;
import io.panllm.runtime.tokenizer.Vocabulary;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code panllm template}: a chat template's text for a conversation, to debug a template. */
@Command(name = "template", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Render a chat template for the messages in a JSON file, as Hugging Face transformers does, and print the text exactly "
                + "(no newline added). When the template raises an error, print it and exit with 1."},
        footer = {"", "MESSAGES.json holds a list of messages like [{\"role\": \"user\", \"content\": \"Hi\"}] (any other keys reach the template too).",
                "Examples:", "  panllm template -m model.gguf --messages chat.json --add-generation-prompt",
                "  panllm template --template chat_template.jinja --messages chat.json --bos-token '<s>' --var enable_thinking=false"})
final class TemplateCommand implements Callable<Integer> {

    static final class Source {
        @Option(names = {"-m", "--model"}, paramLabel = "MODEL",
                description = "a GGUF file (tokenizer.chat_template), or a Hugging Face directory or its tokenizer_config.json")
        Path model;

        @Option(names = "--template", paramLabel = "FILE.jinja", description = "a Jinja template file")
        Path template;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Option(names = "--messages", paramLabel = "MESSAGES.json", required = true, description = "the conversation, a JSON list of messages")
    Path messages;

    @Option(names = "--add-generation-prompt", description = "open the assistant's turn after the messages")
    boolean addGenerationPrompt;

    @Option(names = "--bos-token", paramLabel = "S", description = "the bos_token text (default: the model's, or empty)")
    String bosToken;

    @Option(names = "--eos-token", paramLabel = "S", description = "the eos_token text (default: the model's, or empty)")
    String eosToken;

    @Option(names = "--var", paramLabel = "NAME=VALUE",
            description = "another template variable; VALUE is read as JSON when it is JSON (false, 3, [\"a\"]), else as text")
    Map<String, String> vars = new LinkedHashMap<>();

    /** A template with the BOS and EOS texts that go with it. */
    private record Loaded(String template, String bos, String eos) {
    }

    @Override
    public Integer call() throws IOException {
        Loaded loaded = load();
        Map<String, Object> variables = new LinkedHashMap<>();
        vars.forEach((name, value) -> variables.put(name, jsonOrText(value)));
        JinjaChatTemplate template = new JinjaChatTemplate(loaded.template(),
                bosToken != null ? bosToken : loaded.bos(), eosToken != null ? eosToken : loaded.eos(), false, Map.of(), List.of());
        String text = template.renderExactly(readMessages(), addGenerationPrompt, variables);
        // The exact bytes, whatever the console's encoding: a template's output is the model's input.
        PrintStream out = System.out;
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
        return ExitCodes.OK;
    }

    private Loaded load() throws IOException {
        if (source.template != null) {
            return new Loaded(Files.readString(source.template), "", "");
        }
        Path model = source.model;
        if (Files.isDirectory(model) || model.getFileName().toString().endsWith(".json")) {
            HfTokenizerConfig config = HfTokenizerConfig.read(Files.isDirectory(model) ? model : model.toAbsolutePath().getParent());
            if (config.chatTemplate() == null) {
                throw new BadInputException(model + ": no chat template (neither tokenizer_config.json's chat_template nor chat_template.jinja)");
            }
            return new Loaded(config.chatTemplate(), orEmpty(config.bosToken()), orEmpty(config.eosToken()));
        }
        Vocabulary vocab;
        try (GgufFile gguf = GgufFile.open(model)) {
            vocab = GgufTokenizerMetadata.read(gguf.metadata(), model.toString());
        }
        if (vocab.chatTemplate() == null) {
            throw new BadInputException(model + ": no chat template (" + GgufTokenizerMetadata.CHAT_TEMPLATE + " is missing)");
        }
        return new Loaded(vocab.chatTemplate(), text(vocab, vocab.special().bos()), text(vocab, vocab.special().eos()));
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s;
    }

    private static String text(Vocabulary vocab, int id) {
        return id == SpecialTokens.NONE ? "" : vocab.tokens().get(id);
    }

    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> readMessages() throws IOException {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readString(messages));
        } catch (JsonProcessingException e) {
            throw new BadInputException(messages + ": not JSON (" + e.getOriginalMessage() + ")");
        }
        if (root != null && root.isObject() && root.has("messages")) {
            root = root.get("messages");
        }
        if (root == null || !root.isArray()) {
            throw new BadInputException(messages + ": expected a JSON list of messages like [{\"role\": \"user\", \"content\": \"Hi\"}]");
        }
        for (JsonNode m : root) {
            if (!m.isObject()) {
                throw new BadInputException(messages + ": each message must be a JSON object, got " + m);
            }
        }
        return new ObjectMapper().convertValue(root, List.class);
    }

    private static Object jsonOrText(String value) {
        try {
            // strict: "26 Jul 2024" is text, not the number 26 followed by junk
            return new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).readValue(value, Object.class);
        } catch (JsonProcessingException e) {
            return value;
        }
    }
}
