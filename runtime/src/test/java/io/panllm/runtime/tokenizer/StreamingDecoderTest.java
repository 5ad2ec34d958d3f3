package io.panllm.runtime.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StreamingDecoderTest {
    private static final Tokenizer SPM = TestFiles.ggufTokenizer("gguf/vocab/ggml-vocab-llama-spm.gguf");

    private static List<String> feed(StreamingDecoder decoder, int... ids) {
        List<String> pieces = new ArrayList<>();
        for (int id : ids) {
            pieces.add(decoder.accept(id));
        }
        return pieces;
    }

    @Test
    void utf8SplitAcrossByteTokensWaitsForItsLastByte() {
        // " this is 🦙.cpp" in llama.cpp's vectors: 🦙 (F0 9F A6 99) is four byte tokens
        StreamingDecoder decoder = new StreamingDecoder(SPM);
        List<String> pieces = feed(decoder, 29871, 445, 338, 29871, 243, 162, 169, 156, 29889, 8223);
        assertThat(pieces).containsExactly(" ", " this", " is", " ", "", "", "", "🦙", ".", "cpp");
        assertThat(decoder.flush()).isEmpty();
    }

    @Test
    void byteLevelBpeStreamsToTheSameTextAsDecode() {
        Tokenizer llama3 = TestFiles.llama3();
        String text = "Emoji 😶‍🌫️ and 我想在apple工作 ✅ plus Ελληνικά, done.\n" + TestFiles.wikiText(20_000);
        int[] ids = llama3.encode(text, false, false);
        StreamingDecoder decoder = new StreamingDecoder(llama3);
        StringBuilder streamed = new StringBuilder();
        int heldBack = 0;
        for (int id : ids) {
            String piece = decoder.accept(id);
            assertThat(piece).doesNotContain("\uFFFD");
            heldBack += piece.isEmpty() ? 1 : 0;
            streamed.append(piece);
        }
        streamed.append(decoder.flush());
        assertThat(streamed.toString()).isEqualTo(text);
        assertThat(heldBack).isPositive(); // some characters really were split over tokens
    }

    @Test
    void definitelyInvalidBytesBecomeReplacementCharacters() {
        int byteFF = SPM.id("<0xFF>");
        int byteE2 = SPM.id("<0xE2>");
        int byte41 = SPM.id("<0x41>");
        StreamingDecoder decoder = new StreamingDecoder(SPM);
        assertThat(decoder.accept(byteFF)).isEqualTo("\uFFFD");
        assertThat(decoder.accept(byteE2)).isEmpty(); // could still become a character
        assertThat(decoder.accept(byte41)).isEqualTo("\uFFFDA");
        assertThat(decoder.accept(byteE2)).isEmpty();
        assertThat(decoder.flush()).isEqualTo("\uFFFD");
        assertThat(decoder.flush()).isEmpty();
    }

    @Test
    void leadingSpaceAndControlTokens() {
        assertThat(feed(new StreamingDecoder(SPM), 15043, 3186)).containsExactly(" Hello", " world");
        assertThat(feed(new StreamingDecoder(SPM), 1, 15043, 3186)).containsExactly("", "Hello", " world");
        assertThat(feed(new StreamingDecoder(SPM, true), 1, 15043, 2)).containsExactly("<s>", "Hello", "</s>");
        Tokenizer llama3 = TestFiles.llama3();
        assertThat(feed(new StreamingDecoder(llama3), 128_000, 9906, 1917, 128_009)).containsExactly("", "Hello", " world", "");
        assertThat(feed(new StreamingDecoder(llama3, true), 9906, 128_009)).containsExactly("Hello", "<|eot_id|>");
    }
}
