package io.panllm.runtime.tokenizer;

import io.panllm.gguf.GgufArray;
import io.panllm.gguf.GgufException;
import io.panllm.gguf.GgufMetadata;
import io.panllm.gguf.GgufValue;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one place that knows the {@code tokenizer.*} GGUF keys: reads a {@link Vocabulary} from a
 * file's metadata and writes one back with the keys and value types llama.cpp's
 * convert_hf_to_gguf.py uses.
 *
 * <pre>
 * key                               GGUF type        notes
 * tokenizer.ggml.model              STRING           "llama" (SentencePiece) or "gpt2" (byte-level BPE)
 * tokenizer.ggml.pre                STRING           "default", "llama-bpe", "gpt-2", ...
 * tokenizer.ggml.tokens             ARRAY of STRING
 * tokenizer.ggml.scores             ARRAY of FLOAT32 SentencePiece only
 * tokenizer.ggml.token_type         ARRAY of INT32   {@link TokenType} ids
 * tokenizer.ggml.merges             ARRAY of STRING  BPE only, "left right" in rank order
 * tokenizer.ggml.bos_token_id       UINT32           (likewise eos, eot, unknown, padding)
 * tokenizer.ggml.add_bos_token      BOOL             (likewise add_eos_token, add_space_prefix)
 * tokenizer.chat_template           STRING           Jinja
 * </pre>
 */
public final class GgufTokenizerMetadata {
    public static final String MODEL = "tokenizer.ggml.model";
    public static final String PRE = "tokenizer.ggml.pre";
    public static final String TOKENS = "tokenizer.ggml.tokens";
    public static final String SCORES = "tokenizer.ggml.scores";
    public static final String TOKEN_TYPE = "tokenizer.ggml.token_type";
    public static final String MERGES = "tokenizer.ggml.merges";
    public static final String BOS_ID = "tokenizer.ggml.bos_token_id";
    public static final String EOS_ID = "tokenizer.ggml.eos_token_id";
    public static final String EOT_ID = "tokenizer.ggml.eot_token_id";
    public static final String UNKNOWN_ID = "tokenizer.ggml.unknown_token_id";
    public static final String PADDING_ID = "tokenizer.ggml.padding_token_id";
    public static final String ADD_BOS = "tokenizer.ggml.add_bos_token";
    public static final String ADD_EOS = "tokenizer.ggml.add_eos_token";
    public static final String ADD_SPACE_PREFIX = "tokenizer.ggml.add_space_prefix";
    public static final String CHAT_TEMPLATE = "tokenizer.chat_template";

    /** The pre-tokenizer name when the file gives none (llama.cpp warns and uses its "default" regexes). */
    static final String DEFAULT_PRE = "default";

    /** Texts llama.cpp takes as end of turn when the file names no eot_token_id. */
    private static final List<String> END_OF_TURN_TEXTS = List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>");

    private GgufTokenizerMetadata() {
    }

    /**
     * Reads the vocabulary from GGUF metadata.
     *
     * @param source the file name, for messages
     * @throws UnsupportedTokenizerException for a tokenizer model or pre-tokenizer this project lacks
     * @throws TokenizerException            for missing or inconsistent keys
     */
    public static Vocabulary read(GgufMetadata metadata, String source) {
        try {
            return readChecked(metadata, source);
        } catch (GgufException e) {
            throw new TokenizerException(source + ": bad tokenizer metadata: " + e.getMessage(), e);
        }
    }

    private static Vocabulary readChecked(GgufMetadata m, String source) {
        if (!m.has(MODEL)) {
            throw new TokenizerException(source + ": no tokenizer (metadata key " + MODEL + " is missing)");
        }
        String modelName = m.getString(MODEL);
        Vocabulary.Model model = switch (modelName) {
            case "llama" -> Vocabulary.Model.SENTENCE_PIECE;
            case "gpt2" -> Vocabulary.Model.BYTE_PAIR;
            default -> throw new UnsupportedTokenizerException(source + ": tokenizer model '" + modelName
                    + "' is not supported (supported: 'llama' = SentencePiece, 'gpt2' = byte-level BPE)");
        };
        boolean bpe = model == Vocabulary.Model.BYTE_PAIR;
        String pre = m.getString(PRE, DEFAULT_PRE);
        BpePreTokenizers bpePre = bpe ? BpePreTokenizers.forName(pre) : null;
        if (bpe && bpePre == null) {
            throw new UnsupportedTokenizerException(source + ": BPE pre-tokenizer '" + pre
                    + "' is not supported (supported: " + BpePreTokenizers.supportedNames() + ")");
        }
        List<String> tokens = m.getStringArray(TOKENS);
        int n = tokens.size();
        float[] scores = m.has(SCORES) ? m.getFloatArray(SCORES) : (bpe ? null : new float[n]);
        TokenType[] types = new TokenType[n];
        if (m.has(TOKEN_TYPE)) {
            int[] typeIds = m.getIntArray(TOKEN_TYPE);
            if (typeIds.length != n) {
                throw new TokenizerException(source + ": " + TOKEN_TYPE + " has " + typeIds.length + " entries for " + n + " tokens");
            }
            for (int i = 0; i < n; i++) {
                types[i] = TokenType.fromId(typeIds[i]);
            }
        } else {
            Arrays.fill(types, TokenType.NORMAL);
        }
        List<String> merges = bpe ? m.getStringArray(MERGES) : List.of();

        // Defaults as in llama.cpp's llama_vocab::load.
        int defaultBos = bpe ? SpecialTokens.NONE : 1;
        int defaultEos = bpe ? SpecialTokens.NONE : 2;
        int defaultUnk = bpe ? SpecialTokens.NONE : 0;
        SpecialTokens special = new SpecialTokens(
                optionalId(m, BOS_ID, defaultBos, n),
                optionalId(m, EOS_ID, defaultEos, n),
                optionalId(m, EOT_ID, SpecialTokens.NONE, n),
                optionalId(m, UNKNOWN_ID, defaultUnk, n),
                optionalId(m, PADDING_ID, SpecialTokens.NONE, n));
        // llama.cpp: SentencePiece adds BOS; BPE only for the pre-tokenizers that say so (Llama 3, Tekken)
        boolean addBos = m.getBoolean(ADD_BOS, !bpe || bpePre.addBosByDefault());
        boolean addEos = m.getBoolean(ADD_EOS, false);
        boolean addSpacePrefix = m.getBoolean(ADD_SPACE_PREFIX, !bpe);
        String chatTemplate = m.getString(CHAT_TEMPLATE, null);
        Vocabulary v = new Vocabulary(model, pre, tokens, scores, types, merges, special, addBos, addEos, addSpacePrefix, chatTemplate);
        return withDetectedEot(LlamaVocabRules.apply(v, m.getString("general.name", null)));
    }

    /** An id the file may hold; an id past the vocabulary is dropped, as llama.cpp does (with a warning there). */
    private static int optionalId(GgufMetadata m, String key, int def, int vocabSize) {
        if (!m.has(key)) {
            return def;
        }
        long id = m.getLong(key);
        return id >= 0 && id < vocabSize ? (int) id : SpecialTokens.NONE;
    }

    /** Fills in the end-of-turn token from its well-known text when the source names none. */
    static Vocabulary withDetectedEot(Vocabulary v) {
        if (v.special().eot() != SpecialTokens.NONE) {
            return v;
        }
        for (String text : END_OF_TURN_TEXTS) {
            int id = v.findSpecial(text);
            if (id != SpecialTokens.NONE) {
                return new Vocabulary(v.model(), v.preTokenizer(), v.tokens(), v.scores(), v.types(), v.merges(),
                        v.special().withEot(id), v.addBos(), v.addEos(), v.addSpacePrefix(), v.chatTemplate(), v.strip());
            }
        }
        return v;
    }

    /**
     * The {@code tokenizer.*} entries for a GGUF file, in the order convert_hf_to_gguf.py writes
     * them, each with its GGUF value type (pass them to {@code GgufWriter.put}).
     */
    public static Map<String, GgufValue> write(Vocabulary v) {
        Map<String, GgufValue> out = new LinkedHashMap<>();
        boolean bpe = v.model() == Vocabulary.Model.BYTE_PAIR;
        out.put(MODEL, GgufValue.ofString(v.model().ggufName()));
        out.put(PRE, GgufValue.ofString(v.preTokenizer()));
        out.put(TOKENS, GgufValue.ofArray(GgufArray.ofStrings(v.tokens())));
        if (v.scores() != null) {
            out.put(SCORES, GgufValue.ofArray(GgufArray.ofFloats(v.scores().clone())));
        }
        int[] typeIds = new int[v.size()];
        for (int i = 0; i < typeIds.length; i++) {
            typeIds[i] = v.types()[i].id();
        }
        out.put(TOKEN_TYPE, GgufValue.ofArray(GgufArray.ofInt32s(typeIds)));
        if (bpe) {
            out.put(MERGES, GgufValue.ofArray(GgufArray.ofStrings(v.merges())));
        }
        putId(out, BOS_ID, v.special().bos());
        putId(out, EOS_ID, v.special().eos());
        putId(out, EOT_ID, v.special().eot());
        putId(out, UNKNOWN_ID, v.special().unknown());
        putId(out, PADDING_ID, v.special().padding());
        out.put(ADD_BOS, GgufValue.ofBool(v.addBos()));
        out.put(ADD_EOS, GgufValue.ofBool(v.addEos()));
        if (v.addSpacePrefix() == bpe) { // only where it differs from llama.cpp's default for the model
            out.put(ADD_SPACE_PREFIX, GgufValue.ofBool(v.addSpacePrefix()));
        }
        if (v.chatTemplate() != null) {
            out.put(CHAT_TEMPLATE, GgufValue.ofString(v.chatTemplate()));
        }
        return out;
    }

    private static void putId(Map<String, GgufValue> out, String key, int id) {
        if (id != SpecialTokens.NONE) {
            out.put(key, GgufValue.ofUInt32(id));
        }
    }
}
