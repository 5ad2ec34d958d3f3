package io.panllm.runtime.tokenizer;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The per-vocabulary rules llama.cpp applies when it loads a vocabulary (llama_vocab::load),
 * beyond what the file states:
 * <ul>
 *   <li>tokens that end generation ({@link #END_OF_GENERATION_TEXTS}) are control tokens whatever
 *       type the file gives them: phi-3 stores "&lt;/s&gt;" as user-defined, llama.cpp makes it
 *       control, so that it is parsed only with special-token parsing and not printed;</li>
 *   <li>per-model white-space attributes: for Phi-3 (general.name containing "phi-3" or "phi3")
 *       every special token but &lt;unk&gt;, &lt;s&gt; and &lt;|endoftext|&gt; swallows the white
 *       space after it when parsed (rstrip).</li>
 * </ul>
 */
final class LlamaVocabRules {
    /** llama.cpp's end-of-generation token texts. */
    static final List<String> END_OF_GENERATION_TEXTS = List.of(
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
            "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
            "<end_of_utterance>", "<eos>");

    private static final Set<String> PHI3_NO_RSTRIP = Set.of("<unk>", "<s>", "<|endoftext|>");

    private LlamaVocabRules() {
    }

    /**
     * The vocabulary as llama.cpp sees it.
     *
     * @param modelName the file's general.name, or null
     */
    static Vocabulary apply(Vocabulary v, String modelName) {
        TokenType[] types = v.types().clone();
        for (int id = 0; id < v.size(); id++) {
            if (types[id] != TokenType.CONTROL && END_OF_GENERATION_TEXTS.contains(v.tokens().get(id))) {
                types[id] = TokenType.CONTROL;
            }
        }
        byte[] strip = v.strip();
        String name = modelName == null ? "" : modelName.toLowerCase(Locale.ROOT);
        if (name.contains("phi-3") || name.contains("phi3")) {
            strip = strip == null ? new byte[v.size()] : strip.clone();
            for (int id = 0; id < v.size(); id++) {
                boolean special = types[id] == TokenType.CONTROL || types[id] == TokenType.USER_DEFINED || types[id] == TokenType.UNKNOWN;
                if (special && !PHI3_NO_RSTRIP.contains(v.tokens().get(id))) {
                    strip[id] |= Vocabulary.RSTRIP;
                } else if (PHI3_NO_RSTRIP.contains(v.tokens().get(id))) {
                    strip[id] &= ~Vocabulary.RSTRIP;
                }
            }
        }
        return v.withTypes(types, strip);
    }
}
