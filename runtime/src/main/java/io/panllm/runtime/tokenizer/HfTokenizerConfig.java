package io.panllm.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a Hugging Face tokenizer_config.json says beside the vocabulary: the BOS/EOS/padding texts,
 * add_bos_token/add_eos_token, and the chat template (its "chat_template", or the
 * chat_template.jinja file that newer transformers save beside it instead).
 *
 * @param bosToken     the BOS text, or null
 * @param addBos       add_bos_token, or null when the file does not say
 * @param chatTemplate the Jinja chat template, or null
 */
public record HfTokenizerConfig(String bosToken, String eosToken, String padToken, Boolean addBos, Boolean addEos,
                                String chatTemplate) {

    /** Reads {@code dir/tokenizer_config.json} (all null when there is none) and {@code dir/chat_template.jinja}. */
    public static HfTokenizerConfig read(Path dir) {
        Path file = dir.resolve("tokenizer_config.json");
        JsonNode config;
        try {
            config = Files.isRegularFile(file) ? new ObjectMapper().readTree(file.toFile()) : new ObjectMapper().createObjectNode();
        } catch (IOException e) {
            throw new TokenizerException(file + ": cannot read JSON: " + e.getMessage(), e);
        }
        String template = chatTemplate(config.path("chat_template"));
        Path jinja = dir.resolve("chat_template.jinja");
        if (template == null && Files.isRegularFile(jinja)) {
            try {
                template = Files.readString(jinja);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return new HfTokenizerConfig(tokenText(config.path("bos_token")), tokenText(config.path("eos_token")),
                tokenText(config.path("pad_token")), bool(config.path("add_bos_token")), bool(config.path("add_eos_token")),
                template);
    }

    private static Boolean bool(JsonNode node) {
        return node.isBoolean() ? node.asBoolean() : null;
    }

    /** A special token in tokenizer_config.json: a string, or an object with "content". */
    private static String tokenText(JsonNode node) {
        if (node.isTextual()) {
            return node.asText();
        }
        return node.isObject() ? node.path("content").asText(null) : null;
    }

    /** A template string, or from a list of named templates the one called "default" (else the first). */
    private static String chatTemplate(JsonNode node) {
        if (node.isTextual()) {
            return node.asText();
        }
        if (node.isArray() && !node.isEmpty()) {
            for (JsonNode named : node) {
                if (named.path("name").asText().equals("default")) {
                    return named.path("template").asText(null);
                }
            }
            return node.get(0).path("template").asText(null);
        }
        return null;
    }
}
