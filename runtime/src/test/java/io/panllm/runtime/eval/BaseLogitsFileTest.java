package io.panllm.runtime.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BaseLogitsFileTest {

    private static final int CONTEXT = 8;      // 3 scored rows per chunk
    private static final int VOCAB = 1001;     // odd: rows carry one uint16 of padding
    private static final int CHUNKS = 2;

    @TempDir
    Path directory;

    private static float[][] randomRows(int count, long seed) {
        Random random = new Random(seed);
        float[][] rows = new float[count][VOCAB];
        for (float[] row : rows) {
            for (int i = 0; i < VOCAB; i++) {
                row[i] = (float) (random.nextGaussian() * 4);
            }
            row[random.nextInt(VOCAB)] = -40;          // far below the 16-nat floor
        }
        return rows;
    }

    private static int[] tokens() {
        int[] tokens = new int[CONTEXT * CHUNKS];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = (i * 97) % VOCAB;
        }
        return tokens;
    }

    private Path write(float[][] rows) throws IOException {
        Path file = directory.resolve("base.kld");
        int[] tokens = tokens();
        try (BaseLogitsWriter writer = new BaseLogitsWriter(file, CONTEXT, VOCAB, CHUNKS, tokens)) {
            QuantizedLogProbs row = new QuantizedLogProbs(VOCAB);
            for (float[] logits : rows) {
                row.encode(logits, 0);
                writer.writeRow(row);
            }
            writer.commit();
        }
        return file;
    }

    private static double[] logSoftmax(float[] logits) {
        double max = Arrays.stream(toDoubles(logits)).max().orElseThrow();
        double sum = 0;
        for (float logit : logits) {
            sum += Math.exp(logit - max);
        }
        double[] result = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            result[i] = logits[i] - max - Math.log(sum);
        }
        return result;
    }

    private static double[] toDoubles(float[] values) {
        double[] doubles = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            doubles[i] = values[i];
        }
        return doubles;
    }

    @Test
    void roundTripKeepsTheLogProbabilitiesWithinHalfAStep() throws IOException {
        float[][] rows = randomRows(CHUNKS * 3, 11);
        Path file = write(rows);
        try (BaseLogitsReader reader = new BaseLogitsReader(file)) {
            assertThat(reader.contextSize()).isEqualTo(CONTEXT);
            assertThat(reader.vocabSize()).isEqualTo(VOCAB);
            assertThat(reader.chunks()).isEqualTo(CHUNKS);
            assertThat(reader.tokens()).containsExactly(tokens());
            QuantizedLogProbs row = new QuantizedLogProbs(VOCAB);
            for (int chunk = 0; chunk < CHUNKS; chunk++) {
                for (int position = 0; position < 3; position++) {
                    float[] logits = rows[chunk * 3 + position];
                    reader.readRow(chunk, position, row);
                    double[] exact = logSoftmax(logits);
                    double best = Arrays.stream(exact).max().orElseThrow();
                    double step = row.scale;
                    assertThat(step).isCloseTo(16.0 / 65535, within(1e-9));   // the range is clipped at 16 nats
                    for (int i = 0; i < VOCAB; i++) {
                        double expected = Math.max(exact[i], best - 16);
                        assertThat((double) row.logProb(i)).as("chunk %d row %d token %d", chunk, position, i)
                                .isCloseTo(expected, within(step / 2 + 2e-5));
                    }
                }
            }
        }
    }

    @Test
    void theLayoutIsLlamaCpps() throws IOException {
        Path file = write(randomRows(CHUNKS * 3, 12));
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        int rowUint16 = 2 * ((VOCAB + 1) / 2) + 4;            // nv in perplexity.cpp
        assertThat(bytes.capacity()).isEqualTo(20 + 4 * CONTEXT * CHUNKS + CHUNKS * 3 * rowUint16 * 2);
        byte[] magic = new byte[8];
        bytes.get(magic);
        assertThat(new String(magic, StandardCharsets.US_ASCII)).isEqualTo("_logits_");
        assertThat(bytes.getInt()).isEqualTo(CONTEXT);
        assertThat(bytes.getInt()).isEqualTo(VOCAB);
        assertThat(bytes.getInt()).isEqualTo(CHUNKS);
        for (int token : tokens()) {
            assertThat(bytes.getInt()).isEqualTo(token);
        }
        // First row: scale, min log-prob, the largest logit maps to 65535, the padding is 0.
        float scale = bytes.getFloat();
        float minLogProb = bytes.getFloat();
        assertThat(scale).isCloseTo(16f / 65535, within(1e-9f));
        assertThat(minLogProb).isLessThan(-16f);
        int highest = 0;
        for (int i = 0; i < VOCAB; i++) {
            highest = Math.max(highest, Short.toUnsignedInt(bytes.getShort()));
        }
        assertThat(highest).isEqualTo(65535);
        assertThat(bytes.getShort()).isZero();
    }

    @Test
    void allEqualLogitsStoreAZeroScale() {
        QuantizedLogProbs row = new QuantizedLogProbs(4);
        double nll = row.encode(new float[] {2, 2, 2, 2}, 3);
        assertThat(row.scale).isZero();
        assertThat(row.logProb(1)).isCloseTo((float) -Math.log(4), within(1e-6f));
        assertThat(nll).isCloseTo(Math.log(4), within(1e-6));
    }

    @Test
    void notABaseFileIsReportedAsSuch() throws IOException {
        Path file = directory.resolve("text.kld");
        Files.writeString(file, "this is not a logits file at all");
        assertThatThrownBy(() -> new BaseLogitsReader(file))
                .isInstanceOf(BaseLogitsException.class)
                .hasMessageContaining("text.kld")
                .hasMessageContaining("_logits_");
        Path tiny = directory.resolve("tiny.kld");
        Files.write(tiny, new byte[5]);
        assertThatThrownBy(() -> new BaseLogitsReader(tiny)).hasMessageContaining("too short");
    }

    @Test
    void aTruncatedFileIsReportedNotReadPastItsEnd() throws IOException {
        Path file = write(randomRows(CHUNKS * 3, 13));
        byte[] bytes = Files.readAllBytes(file);
        Path truncated = directory.resolve("truncated.kld");
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length - 100));
        assertThatThrownBy(() -> new BaseLogitsReader(truncated))
                .isInstanceOf(BaseLogitsException.class)
                .hasMessageContaining("truncated");
    }

    @Test
    void hostileHeaderSizesAreRefused() throws IOException {
        ByteBuffer header = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN);
        header.put("_logits_".getBytes(StandardCharsets.US_ASCII)).putInt(Integer.MAX_VALUE)
                .putInt(Integer.MAX_VALUE).putInt(Integer.MAX_VALUE);
        Path file = directory.resolve("hostile.kld");
        Files.write(file, header.array());
        assertThatThrownBy(() -> new BaseLogitsReader(file)).isInstanceOf(BaseLogitsException.class);

        header.putInt(12, -5);
        Files.write(file, header.array());
        assertThatThrownBy(() -> new BaseLogitsReader(file))
                .isInstanceOf(BaseLogitsException.class)
                .hasMessageContaining("n_vocab is -5");
    }

    @Test
    void aTokenOutsideTheVocabularyIsReportedWithItsOffset() throws IOException {
        Path file = write(randomRows(CHUNKS * 3, 14));
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(20 + 4 * 5, VOCAB + 3);
        Files.write(file, bytes);
        assertThatThrownBy(() -> new BaseLogitsReader(file))
                .isInstanceOf(BaseLogitsException.class)
                .hasMessageContaining("offset 40")
                .hasMessageContaining("token 1004");
    }
}
