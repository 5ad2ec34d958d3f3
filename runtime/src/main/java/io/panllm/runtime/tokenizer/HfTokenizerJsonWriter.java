package io.panllm.runtime.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.panllm.io.AtomicFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes a byte-level BPE vocabulary (a GGUF's {@code gpt2} tokenizer) as the Hugging Face files
 * {@link HfTokenizerJson} and the tokenizers library read: tokenizer.json (BPE model with the
 * vocabulary and merges in rank order, the Llama 3 or GPT-2 pre-tokenizer, ByteLevel decoder,
 * control and user-defined tokens as added_tokens, BOS prepended by a TemplateProcessing post
 * processor when the vocabulary adds it), tokenizer_config.json (bos/eos, add_bos_token, chat
 * template) and special_tokens_map.json. SentencePiece vocabularies are refused: their
 * tokenizer.model is a protobuf this writer does not produce.
 */
public final class HfTokenizerJsonWriter {
    private HfTokenizerJsonWriter() {
    }

    public static final List<String> FILES = List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json");

    /** Writes the three files into {@code dir}; returns them. */
    public static List<Path> write(Vocabulary v, Path dir) throws IOException {
        if (v.model() != Vocabulary.Model.BYTE_PAIR) {
            throw new UnsupportedTokenizerException("a SentencePiece vocabulary needs a tokenizer.model, which panllm does not"
                    + " write yet; copy the original model's tokenizer files beside the weights");
        }
        String pre = v.preTokenizer() == null ? "llama-bpe" : v.preTokenizer();
        BpePreTokenizers kind = BpePreTokenizers.forName(pre);
        boolean llama3 = kind == BpePreTokenizers.LLAMA3 || kind == BpePreTokenizers.DBRX;
        if (!llama3 && kind != BpePreTokenizers.GPT2) {
            throw new UnsupportedTokenizerException("pre-tokenizer '" + pre + "' has no tokenizer.json form in panllm"
                    + " (the Llama 3 and GPT-2 ones have)");
        }
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode root = f.objectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        String bos = null;
        String eos = null;
        ObjectNode vocab = f.objectNode();
        for (int id = 0; id < v.tokens().size(); id++) {
            String text = v.tokens().get(id);
            TokenType type = v.types() == null ? TokenType.NORMAL : v.types()[id];
            if (type == TokenType.CONTROL || type == TokenType.USER_DEFINED) {
                added.addObject().put("id", id).put("content", text).put("single_word", false).put("lstrip", false)
                        .put("rstrip", false).put("normalized", type != TokenType.CONTROL).put("special", type == TokenType.CONTROL);
            }
            vocab.put(text, id);
            if (id == v.special().bos()) {
                bos = text;
            }
            if (id == v.special().eos()) {
                eos = text;
            }
        }
        root.putNull("normalizer");
        ObjectNode byteLevel = f.objectNode().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true)
                .put("use_regex", !llama3);
        if (llama3) {
            ObjectNode seq = root.putObject("pre_tokenizer").put("type", "Sequence");
            ArrayNode steps = seq.putArray("pretokenizers");
            steps.addObject().put("type", "Split").put("behavior", "Isolated").put("invert", false)
                    .putObject("pattern").put("Regex", Llama3PreTokenizer.REGEX);
            steps.add(byteLevel);
        } else {
            root.set("pre_tokenizer", byteLevel);
        }
        ObjectNode byteLevelPost = f.objectNode().put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", false)
                .put("use_regex", true);
        if (v.addBos() && bos != null) {
            ObjectNode post = root.putObject("post_processor").put("type", "Sequence");
            ArrayNode processors = post.putArray("processors");
            processors.add(byteLevelPost);
            ObjectNode template = processors.addObject().put("type", "TemplateProcessing");
            template.putArray("single").add(special(f, bos)).add(sequence(f, "A"));
            template.putArray("pair").add(special(f, bos)).add(sequence(f, "A")).add(special(f, bos)).add(sequence(f, "B"));
            ObjectNode entry = template.putObject("special_tokens").putObject(bos).put("id", bos);
            entry.putArray("ids").add(v.special().bos());
            entry.putArray("tokens").add(bos);
        } else {
            root.set("post_processor", byteLevelPost);
        }
        root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", true)
                .put("use_regex", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").putNull("dropout").putNull("unk_token").putNull("continuing_subword_prefix")
                .putNull("end_of_word_suffix").put("fuse_unk", false).put("byte_fallback", false).put("ignore_merges", kind == BpePreTokenizers.LLAMA3);
        model.set("vocab", vocab);
        ArrayNode merges = model.putArray("merges");
        for (String m : v.merges()) {
            int space = m.indexOf(' ');
            merges.addArray().add(m.substring(0, space)).add(m.substring(space + 1));
        }

        ObjectNode config = f.objectNode();
        config.put("add_bos_token", v.addBos());
        config.put("add_eos_token", v.addEos());
        if (bos != null) {
            config.put("bos_token", bos);
        }
        if (v.chatTemplate() != null) {
            config.put("chat_template", v.chatTemplate());
        }
        config.put("clean_up_tokenization_spaces", true);
        if (eos != null) {
            config.put("eos_token", eos);
        }
        config.putArray("model_input_names").add("input_ids").add("attention_mask");
        config.put("model_max_length", 131072);
        config.put("tokenizer_class", "PreTrainedTokenizerFast");
        ObjectNode map = f.objectNode();
        if (bos != null) {
            map.put("bos_token", bos);
        }
        if (eos != null) {
            map.put("eos_token", eos);
        }
        Path[] files = {dir.resolve(FILES.get(0)), dir.resolve(FILES.get(1)), dir.resolve(FILES.get(2))};
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        AtomicFile.write(files[0], json.writeValueAsString(root).getBytes(StandardCharsets.UTF_8));
        AtomicFile.write(files[1], json.writeValueAsString(config).getBytes(StandardCharsets.UTF_8));
        AtomicFile.write(files[2], json.writeValueAsString(map).getBytes(StandardCharsets.UTF_8));
        return List.of(files);
    }

    private static ObjectNode special(JsonNodeFactory f, String token) {
        ObjectNode n = f.objectNode();
        n.putObject("SpecialToken").put("id", token).put("type_id", 0);
        return n;
    }

    private static ObjectNode sequence(JsonNodeFactory f, String id) {
        ObjectNode n = f.objectNode();
        n.putObject("Sequence").put("id", id).put("type_id", 0);
        return n;
    }
}
