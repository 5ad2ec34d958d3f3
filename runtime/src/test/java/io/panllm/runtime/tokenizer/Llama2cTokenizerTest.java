package io.panllm.runtime.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The stories260K tokenizer (llama2.c tok512.bin) must tokenize exactly as llama2.c's run.c. */
class Llama2cTokenizerTest {
    private static final Path TOK512 = TestFiles.file("llama2c/tok512.bin");
    private static Tokenizer tokenizer;

    @BeforeAll
    static void load() {
        tokenizer = Tokenizers.fromLlama2c(TOK512);
    }

    /** Output of run.c's encode(text, bos=1, eos=0), compiled from karpathy/llama2.c and run on tok512.bin. */
    @Test
    void matchesRunCOutput() {
        assertThat(tokenizer.encode("Once upon a time", true, false)).containsExactly(1, 403, 407, 261, 378);
        assertThat(tokenizer.encode("Lily and Ben were friends. They liked to play in the park!", true, false))
                .containsExactly(1, 317, 269, 368, 302, 382, 276, 374, 419, 426, 342, 397, 355, 267, 337, 322, 265, 282, 295, 433, 443);
        assertThat(tokenizer.encode("tab\there", true, false)).containsExactly(1, 259, 412, 430, 12, 260, 276);
        assertThat(tokenizer.encode("日本語 text ✅", true, false))
                .containsExactly(1, 410, 233, 154, 168, 233, 159, 175, 235, 173, 161, 259, 411, 444, 413, 410, 229, 159, 136);
        assertThat(tokenizer.encode("a\nb\n\nc", true, false)).containsExactly(1, 261, 13, 430, 13, 13, 429);
    }

    /** Against a literal port of run.c's encode (string concatenation, greedy scan) over wiki lines. */
    @Test
    void matchesReferencePortOnWikiLines() throws IOException {
        RunCReference reference = new RunCReference(TOK512);
        String[] lines = TestFiles.wikiText(60_000).split("\n");
        int checked = 0;
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            assertThat(tokenizer.encode(line, true, false)).as("encode %s", line).containsExactly(reference.encode(line));
            checked++;
        }
        assertThat(checked).isGreaterThan(100);
    }

    @Test
    void vocabularyInSentencePieceForm() {
        assertThat(tokenizer.vocabSize()).isEqualTo(512);
        assertThat(tokenizer.piece(1)).isEqualTo("<s>");
        assertThat(tokenizer.piece(2)).isEqualTo("</s>");
        assertThat(tokenizer.type(1)).isEqualTo(TokenType.CONTROL);
        assertThat(tokenizer.type(13)).isEqualTo(TokenType.BYTE);
        assertThat(tokenizer.piece(410)).isEqualTo("\u2581");
        assertThat(tokenizer.tokenBytes(410)).containsExactly(' ');
        assertThat(tokenizer.stopTokens()).containsExactly(2);
        assertThat(tokenizer.vocabulary().model().ggufName()).isEqualTo("llama");
    }

    @Test
    void decodeDropsTheSpaceAfterBos() {
        // run.c's decode strips the leading space of the piece after BOS
        assertThat(tokenizer.decode(new int[] {1, 403, 407, 261, 378})).isEqualTo("Once upon a time");
        String text = TestFiles.wikiText(30_000);
        assertThat(tokenizer.decode(tokenizer.encode(text, true, false))).isEqualTo(text);
    }

    @Test
    void truncatedFileIsATypedError(@TempDir Path dir) throws IOException {
        byte[] all = Files.readAllBytes(TOK512);
        Path cut = dir.resolve("cut.bin");
        Files.write(cut, java.util.Arrays.copyOf(all, 1001));
        assertThatThrownBy(() -> Tokenizers.fromLlama2c(cut)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("cut.bin").hasMessageContaining("offset");
        Path hostile = dir.resolve("hostile.bin");
        ByteBuffer b = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(7).putFloat(0f).putInt(Integer.MAX_VALUE);
        Files.write(hostile, b.array());
        assertThatThrownBy(() -> Tokenizers.fromLlama2c(hostile)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("claims 2147483647 bytes");
    }

    /** run.c's encode, line for line: O(n^2), strings looked up whole. */
    private static final class RunCReference {
        private final List<String> vocab = new ArrayList<>();
        private final List<Float> scores = new ArrayList<>();
        private final Map<String, Integer> lookup = new HashMap<>();

        RunCReference(Path file) throws IOException {
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
            b.getInt();
            while (b.hasRemaining()) {
                scores.add(b.getFloat());
                byte[] s = new byte[b.getInt()];
                b.get(s);
                String piece = new String(s, StandardCharsets.UTF_8);
                lookup.putIfAbsent(piece, vocab.size());
                vocab.add(piece);
            }
        }

        int[] encode(String text) {
            List<Integer> tokens = new ArrayList<>();
            tokens.add(1);
            tokens.add(lookup.get(" "));
            text.codePoints().forEach(cp -> {
                String ch = Character.toString(cp);
                Integer id = lookup.get(ch);
                if (id != null) {
                    tokens.add(id);
                } else {
                    for (byte x : ch.getBytes(StandardCharsets.UTF_8)) {
                        tokens.add((x & 0xff) + 3);
                    }
                }
            });
            while (true) {
                float bestScore = -1e10f;
                int bestId = -1;
                int bestIdx = -1;
                for (int i = 0; i < tokens.size() - 1; i++) {
                    Integer id = lookup.get(vocab.get(tokens.get(i)) + vocab.get(tokens.get(i + 1)));
                    if (id != null && scores.get(id) > bestScore) {
                        bestScore = scores.get(id);
                        bestId = id;
                        bestIdx = i;
                    }
                }
                if (bestIdx == -1) {
                    break;
                }
                tokens.set(bestIdx, bestId);
                tokens.remove(bestIdx + 1);
            }
            return tokens.stream().mapToInt(Integer::intValue).toArray();
        }
    }
}
