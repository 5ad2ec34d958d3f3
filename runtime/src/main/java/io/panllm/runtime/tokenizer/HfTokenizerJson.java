package io.panllm.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a Hugging Face tokenizer.json holding a byte-level BPE model (Llama 3, GPT-2), and the
 * tokenizer_config.json beside it for the BOS/EOS tokens, add_bos_token and the chat template.
 * Added tokens become CONTROL when marked special, USER_DEFINED otherwise (as convert_hf_to_gguf.py
 * does); ids no entry names are filled with "[PADn]" UNUSED tokens.
 */
final class HfTokenizerJson {
    /** No real vocabulary comes near this; it keeps a hostile id from sizing the arrays. */
    private static final int MAX_VOCAB = 1 << 22;

    private HfTokenizerJson() {
    }

    static Vocabulary read(Path tokenizerJson) {
        JsonNode root = parse(tokenizerJson);
        String where = tokenizerJson.toString();
        JsonNode model = root.path("model");
        String type = model.path("type").asText(model.has("merges") ? "BPE" : "");
        if (!type.equals("BPE")) {
            throw new UnsupportedTokenizerException(where + ": tokenizer model type '" + type + "' is not supported (only byte-level BPE)");
        }
        String pre = preTokenizerName(root.path("pre_tokenizer"), where);

        Map<Integer, String> byId = new HashMap<>();
        Map<Integer, TokenType> typeById = new HashMap<>();
        Map<Integer, Byte> stripById = new HashMap<>();
        for (Map.Entry<String, JsonNode> entry : model.path("vocab").properties()) {
            int id = checkedId(entry.getValue(), where, "model.vocab[\"" + entry.getKey() + "\"]");
            byId.put(id, entry.getKey());
            typeById.put(id, TokenType.NORMAL);
        }
        for (JsonNode added : root.path("added_tokens")) {
            int id = checkedId(added.path("id"), where, "added_tokens");
            byId.put(id, added.path("content").asText());
            typeById.put(id, added.path("special").asBoolean(false) ? TokenType.CONTROL : TokenType.USER_DEFINED);
            byte strip = (byte) ((added.path("lstrip").asBoolean(false) ? Vocabulary.LSTRIP : 0)
                    | (added.path("rstrip").asBoolean(false) ? Vocabulary.RSTRIP : 0));
            if (strip != 0) {
                stripById.put(id, strip);
            }
        }
        if (byId.isEmpty()) {
            throw new TokenizerException(where + ": no vocabulary (model.vocab is empty or missing)");
        }
        int size = byId.keySet().stream().mapToInt(Integer::intValue).max().orElseThrow() + 1;
        List<String> tokens = new ArrayList<>(size);
        TokenType[] types = new TokenType[size];
        Arrays.fill(types, TokenType.UNUSED);
        for (int id = 0; id < size; id++) {
            tokens.add(byId.getOrDefault(id, "[PAD" + id + "]"));
            types[id] = typeById.getOrDefault(id, TokenType.UNUSED);
        }

        List<String> merges = new ArrayList<>();
        for (JsonNode merge : model.path("merges")) {
            if (merge.isTextual()) {
                merges.add(merge.asText());
            } else if (merge.isArray() && merge.size() == 2) {
                merges.add(merge.get(0).asText() + " " + merge.get(1).asText());
            } else {
                throw new TokenizerException(where + ": merge #" + merges.size() + " is neither \"a b\" nor [a, b]: " + merge);
            }
        }

        Map<String, Integer> ids = new HashMap<>();
        for (int id = 0; id < size; id++) {
            ids.put(tokens.get(id), id);
        }
        HfTokenizerConfig config = HfTokenizerConfig.read(tokenizerJson.toAbsolutePath().getParent());
        SpecialTokens special = new SpecialTokens(
                idOf(config.bosToken(), ids),
                idOf(config.eosToken(), ids),
                SpecialTokens.NONE,
                idOf(model.path("unk_token").asText(null), ids),
                idOf(config.padToken(), ids));
        boolean addBos = config.addBos() != null ? config.addBos() : BpePreTokenizers.forName(pre).addBosByDefault();
        boolean addEos = config.addEos() != null && config.addEos();
        Vocabulary vocab = new Vocabulary(Vocabulary.Model.BYTE_PAIR, pre, tokens, null, types, merges, special,
                addBos, addEos, false, config.chatTemplate());
        byte[] strip = null;
        if (!stripById.isEmpty()) {
            strip = new byte[size];
            for (Map.Entry<Integer, Byte> e : stripById.entrySet()) {
                strip[e.getKey()] = e.getValue();
            }
        }
        // the added tokens' own lstrip/rstrip, as HF tokenizers applies them; no model name here
        return GgufTokenizerMetadata.withDetectedEot(LlamaVocabRules.apply(vocab.withTypes(vocab.types(), strip), null));
    }

    /** llama.cpp's name for the pre-tokenizer: the Llama 3 split, or GPT-2's byte-level regex. */
    /** Qwen2's split, as its tokenizer.json writes it: Llama 3's with single digits. */
    static final String QWEN2_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private static String preTokenizerName(JsonNode preTokenizer, String where) {
        List<JsonNode> steps = new ArrayList<>();
        if (preTokenizer.path("type").asText().equals("Sequence")) {
            preTokenizer.path("pretokenizers").forEach(steps::add);
        } else {
            steps.add(preTokenizer);
        }
        String splitRegex = null;
        boolean byteLevel = false;
        boolean byteLevelRegex = false;
        for (JsonNode step : steps) {
            switch (step.path("type").asText()) {
                case "Split" -> splitRegex = step.path("pattern").path("Regex").asText(null);
                case "ByteLevel" -> {
                    byteLevel = true;
                    byteLevelRegex = step.path("use_regex").asBoolean(true);
                }
                default -> throw new UnsupportedTokenizerException(where + ": pre-tokenizer step '" + step.path("type").asText()
                        + "' is not supported");
            }
        }
        if (!byteLevel) {
            throw new UnsupportedTokenizerException(where + ": not a byte-level BPE tokenizer (no ByteLevel pre-tokenizer)");
        }
        if (splitRegex == null && byteLevelRegex) {
            return "gpt-2";
        }
        if (Llama3PreTokenizer.REGEX.equals(splitRegex) && !byteLevelRegex) {
            return "llama-bpe";
        }
        if (QWEN2_REGEX.equals(splitRegex) && !byteLevelRegex) {
            return "qwen2";
        }
        throw new UnsupportedTokenizerException(where + ": pre-tokenizer regex " + splitRegex
                + " is not supported (supported: the Llama 3 and GPT-2 regexes)");
    }

    private static int checkedId(JsonNode node, String where, String what) {
        if (!node.canConvertToInt() || node.asInt() < 0 || node.asInt() >= MAX_VOCAB) {
            throw new TokenizerException(where + ": " + what + " has a bad token id " + node);
        }
        return node.asInt();
    }

    private static int idOf(String text, Map<String, Integer> ids) {
        Integer id = text == null ? null : ids.get(text);
        return id == null ? SpecialTokens.NONE : id;
    }

    private static JsonNode parse(Path file) {
        try {
            return new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new TokenizerException(file + ": cannot read JSON: " + e.getMessage(), e);
        }
    }
}
