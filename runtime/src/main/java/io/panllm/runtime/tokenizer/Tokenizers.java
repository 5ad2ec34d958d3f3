package io.panllm.runtime.tokenizer;

import io.panllm.gguf.GgufMetadata;
import java.nio.file.Path;

/** Builds tokenizers from the files models come with. */
public final class Tokenizers {
    private Tokenizers() {
    }

    /** The tokenizer for a vocabulary. */
    public static Tokenizer create(Vocabulary vocab) {
        return switch (vocab.model()) {
            case SENTENCE_PIECE, LLAMA2C -> new SentencePieceTokenizer(vocab);
            case BYTE_PAIR -> new BytePairTokenizer(vocab);
        };
    }

    /**
     * From a GGUF file's {@code tokenizer.*} metadata.
     *
     * @param source the file name, for messages
     * @throws UnsupportedTokenizerException if the file's tokenizer model or pre-tokenizer is not implemented here
     */
    public static Tokenizer fromGguf(GgufMetadata metadata, String source) {
        return create(GgufTokenizerMetadata.read(metadata, source));
    }

    public static Tokenizer fromGguf(GgufMetadata metadata) {
        return fromGguf(metadata, "GGUF metadata");
    }

    /**
     * From a Hugging Face tokenizer.json (byte-level BPE), with BOS/EOS, add_bos_token and the
     * chat template from the tokenizer_config.json beside it when there is one.
     */
    public static Tokenizer fromHfJson(Path tokenizerJson) {
        return create(HfTokenizerJson.read(tokenizerJson));
    }

    /** From a llama2.c tokenizer.bin; encodes as llama2.c's run.c does. */
    public static Tokenizer fromLlama2c(Path tokenizerBin) {
        return create(Llama2cTokenizerFile.read(tokenizerBin));
    }
}
