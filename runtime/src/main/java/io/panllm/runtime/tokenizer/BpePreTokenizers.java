package io.panllm.runtime.tokenizer;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * llama.cpp's byte-level BPE pre-tokenizers, by the name GGUF gives them in
 * {@code tokenizer.ggml.pre} (llama_vocab::load), each with its regexes (llm_tokenizer_bpe) and
 * the per-vocabulary flags that go with it: whether a word that is a whole token skips the merges
 * (ignore_merges), and whether encoding adds BOS when the file does not say (add_bos).
 */
enum BpePreTokenizers {
    DEFAULT(false, false, regexes(
            "[\\p{P}\\$\\+<=>\\^~\\|]+",
            gpt2Core(),
            "\\p{N}+",
            "[0-9][0-9][0-9]"),
            "default"),
    LLAMA3(true, true, Llama3PreTokenizer::new,
            "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"),
    /** The Llama 3 regex without Llama 3's merge rule. */
    DBRX(false, false, Llama3PreTokenizer::new, "dbrx", "smaug-bpe"),
    GPT2(false, false, Gpt2PreTokenizer::new,
            "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v1-en", "jina-v2-es", "jina-v2-de", "jina-v2-code",
            "roberta-bpe", "mpt", "olmo", "jais", "trillion"),
    QWEN2(false, false, regexes(
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
                    + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
            "qwen2", "deepseek-r1-qwen", "megrez", "stablelm2", "hunyuan", "grok-2"),
    DEEPSEEK_LLM(false, false, regexes(
            "[\r\n]",
            "\\s?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}"
                    + "\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}"
                    + "\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}"
                    + "\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}"
                    + "\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}"
                    + "\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}"
                    + "\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}"
                    + "\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}"
                    + "\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}"
                    + "\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}"
                    + "\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}"
                    + "\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}"
                    + "\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+",
            "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+",
            "\\s+$",
            "[\\x{4E00}-\\x{9FA5}\\x{0800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+",
            "\\p{N}+"),
            "deepseek-llm"),
    DEEPSEEK_CODER(false, false, regexes(
            "[\r\n]",
            "\\s?\\p{L}+",
            "\\s?\\p{P}+",
            "[\\x{4E00}-\\x{9FA5}\\x{0800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+",
            "\\p{N}"),
            "deepseek-coder"),
    DEEPSEEK3_LLM(false, false, regexes(
            "\\p{N}{1,3}",
            "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+",
            "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+"
                    + "| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"),
            "deepseek-v3"),
    FALCON(false, false, regexes(
            "[\\p{P}\\$\\+<=>\\^~\\|`]+",
            gpt2Core(),
            "[0-9][0-9][0-9]"),
            "falcon"),
    STARCODER(false, false, regexes(
            "\\p{N}",
            gpt2Core()),
            "starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b"),
    PORO(false, false, regexes(" ?[^(\\s|.,!?\\x{2026}\\x{3002}\\x{FF0C}\\x{3001}\\x{0964}\\x{06D4}\\x{060C})]+"),
            "poro-chat", "bloom", "gpt3-finnish"),
    VIKING(false, false, regexes(" ?[^(\\s|.,!?\\x{2026}\\x{3002}\\x{FF0C}\\x{3001}\\x{0964}\\x{06D4}\\x{060C})]+", "\\p{N}"),
            "viking"),
    TEKKEN(true, true, regexes(
            "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+"
                    + "((?=[\\p{L}])([^A-Z]))*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
            "tekken"),
    GPT4O(false, false, regexes(
            "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?"
                    + "|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?"
                    + "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
            "gpt-4o", "llama4"),
    SEED_CODER(false, false, regexes(
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}"
                    + "| ?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
            "seed-coder");

    private final boolean ignoreMerges;
    private final boolean addBos;
    private final Supplier<PreTokenizer> factory;
    private final List<String> names;

    private static final Map<String, BpePreTokenizers> BY_NAME = Stream.of(values())
            .flatMap(p -> p.names.stream().map(n -> Map.entry(n, p)))
            .collect(Collectors.toUnmodifiableMap(Map.Entry::getKey, Map.Entry::getValue));

    BpePreTokenizers(boolean ignoreMerges, boolean addBos, Supplier<PreTokenizer> factory, String... names) {
        this.ignoreMerges = ignoreMerges;
        this.addBos = addBos;
        this.factory = factory;
        this.names = List.of(names);
    }

    /** GPT-2's regex as llama.cpp writes it (without the last "\s+"), shared by several lists. */
    private static String gpt2Core() {
        return "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
    }

    private static Supplier<PreTokenizer> regexes(String... regexes) {
        List<String> list = List.of(regexes);
        list.forEach(RegexPreTokenizer::compile); // a typo fails when the class loads, not at first use
        return () -> new RegexPreTokenizer(list);
    }

    /** The pre-tokenizer llama.cpp uses for this {@code tokenizer.ggml.pre} name, or null if it knows none here. */
    static BpePreTokenizers forName(String name) {
        return BY_NAME.get(name);
    }

    /** Every name {@link #forName} knows, for messages. */
    static String supportedNames() {
        return Stream.of(values()).flatMap(p -> p.names.stream()).sorted().collect(Collectors.joining(", "));
    }

    PreTokenizer create() {
        return factory.get();
    }

    /** A word that is a whole token is that token, merges or not (llama.cpp's ignore_merges). */
    boolean ignoreMerges() {
        return ignoreMerges;
    }

    /** Whether encoding adds BOS when the file has no {@code tokenizer.ggml.add_bos_token}. */
    boolean addBosByDefault() {
        return addBos;
    }
}
