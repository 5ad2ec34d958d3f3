package io.panllm.runtime.generate;

import static org.assertj.core.api.Assertions.assertThat;

import io.panllm.gguf.GgufFile;
import io.panllm.runtime.tokenizer.Tokenizer;
import io.panllm.runtime.tokenizer.Tokenizers;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Streaming decode over the real Llama 3 (byte-level BPE) and Llama 2 (SentencePiece) vocabularies. */
class TokenizerTextStreamTest {

    private static Path data(String relative) {
        Path file = Path.of(System.getProperty("panllm.data", "../shared/data")).resolve(relative);
        assertThat(file).as("test data file").exists();
        return file;
    }

    private static Tokenizer llama3;

    /** Loaded once: 280k merges take a moment. */
    private static synchronized Tokenizer llama3() {
        if (llama3 == null) {
            llama3 = Tokenizers.fromHfJson(data("tokenizers/llama3/tokenizer.json"));
        }
        return llama3;
    }

    private static Tokenizer llama2() {
        try (GgufFile gguf = GgufFile.open(data("gguf/vocab/ggml-vocab-llama-spm.gguf"))) {
            return Tokenizers.fromGguf(gguf.metadata());
        }
    }

    /** Streams {@code generated}; returns the pieces joined with '|'. */
    private static String stream(Tokenizer tokenizer, int[] generated, StringBuilder joined) {
        TextStream stream = new TokenizerTextStream(tokenizer);
        StringBuilder pieces = new StringBuilder();
        for (int token : generated) {
            String piece = stream.next(token);
            assertThat(piece).doesNotContain("\uFFFD");
            joined.append(piece);
            pieces.append(piece).append('|');
        }
        joined.append(stream.finish());
        return pieces.toString();
    }

    @Test
    void multiByteCharactersSplitAcrossTokensComeOutWhole() {
        Tokenizer tokenizer = llama3();
        String text = "Héllo wörld — 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🦙 日本語のテキスト, done.";
        int[] tokens = tokenizer.encode(text, false, false);
        StringBuilder joined = new StringBuilder();
        String pieces = stream(tokenizer, tokens, joined);
        assertThat(joined.toString()).isEqualTo(text);
        // Some characters take several byte tokens: those tokens give empty pieces until complete.
        assertThat(pieces).contains("||");
    }

    @Test
    void theFirstGeneratedWordKeepsItsSpaceAfterThePrompt() {
        // Each SentencePiece token carries its own leading space ("▁there"), so a continuation
        // reads right after the prompt, as llama.cpp's token-to-piece streaming prints it.
        Tokenizer tokenizer = llama2();
        int[] all = tokenizer.encode("Once upon a time there was", true, false);
        int[] prompt = tokenizer.encode("Once upon a time", true, false);
        assertThat(Arrays.copyOf(all, prompt.length)).containsExactly(prompt);
        StringBuilder joined = new StringBuilder();
        stream(tokenizer, Arrays.copyOfRange(all, prompt.length, all.length), joined);
        assertThat(joined.toString()).isEqualTo(" there was");
        // BOS gives no text, and the word after it loses its SentencePiece space, as in decode().
        StringBuilder withBos = new StringBuilder();
        stream(tokenizer, new int[] {tokenizer.bos(), all[prompt.length]}, withBos);
        assertThat(withBos.toString()).isEqualTo("there");
    }

    @Test
    void generatorStreamsRealTextThroughTheTokenizer() {
        Tokenizer tokenizer = llama3();
        int[] reply = tokenizer.encode("Ünïcødé → 🦙!", false, false);
        // A model that says the reply token by token, then end of turn.
        int eot = tokenizer.stopTokens().stream().mapToInt(Integer::intValue).max().orElseThrow();
        io.panllm.runtime.testing.FakeModel model = new io.panllm.runtime.testing.FakeModel(tokenizer.vocabSize(),
                sequence -> {
                    float[] logits = new float[tokenizer.vocabSize()];
                    int generated = sequence.length - 1;
                    logits[generated < reply.length ? reply[generated] : eot] = 1;
                    return logits;
                });
        StringBuilder streamed = new StringBuilder();
        try (var session = model.newSession(64)) {
            GenerationResult result = new Generator(Sampler.create(SamplerConfig.greedy(), tokenizer.vocabSize()),
                    () -> new TokenizerTextStream(tokenizer))
                    .generate(session, new int[] {tokenizer.bos()}, new GenerationOptions(-1, tokenizer.stopTokens()),
                            (token, piece) -> streamed.append(piece));
            assertThat(result.reason()).isEqualTo(StopReason.STOP_TOKEN);
            assertThat(result.text()).isEqualTo("Ünïcødé → 🦙!");
            assertThat(streamed.toString()).isEqualTo(result.text());
        }
    }
}
