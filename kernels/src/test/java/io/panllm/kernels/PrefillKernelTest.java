package io.panllm.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.panllm.kernels.DecodeKernels.AttentionShape;
import io.panllm.kernels.reference.Dequantize;
import io.panllm.kernels.reference.PrefillReference;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The prefill kernels against their CPU references on GPU 0 (fresh random inputs each run,
 * outputs poisoned with NaN before the launch, sizes that are no multiple of the block or warp).
 * Skipped, with the reason, where there is no CUDA driver or device.
 */
class PrefillKernelTest {
    private static final int NAN_BITS = Float.floatToRawIntBits(Float.NaN);
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static CudaContext context;
    private static CudaStream stream;
    private static PrefillKernels kernels;
    private static String unavailable;
    private static final Random random = new Random(System.nanoTime());

    @BeforeAll
    static void open() {
        try {
            context = CudaContext.open(0);
            stream = context.createStream();
            kernels = new PrefillKernels(context);
        } catch (CudaUnavailableException e) {
            unavailable = e.getMessage();
        }
    }

    @AfterAll
    static void close() {
        if (context != null) {
            kernels.close();
            stream.close();
            context.close();
        }
    }

    private static void assumeDevice() {
        assumeTrue(unavailable == null, () -> "no CUDA driver: " + unavailable);
    }

    @ParameterizedTest
    @EnumSource(value = WeightFormat.class, names = "F16", mode = EnumSource.Mode.EXCLUDE)
    void dequantizedMatrixIsTheReferenceRoundedToHalf(WeightFormat format) {
        assumeDevice();
        // Q4_0 and Q8_0 compute exactly as the reference; the other kernels may associate the
        // scale and min differently (Q4_K: (d sc) q - dmin m): within one fp16 step of it.
        int allowedSteps = format == WeightFormat.Q4_0 || format == WeightFormat.Q8_0 ? 0 : 1;
        int unit = KernelChecks.columns(format, 1);
        for (int[] shape : new int[][] {{1, unit}, {37, 3 * unit}, {301, KernelChecks.columns(format, 2080)}}) {
            int rows = shape[0];
            int cols = shape[1];
            try (Arena arena = Arena.ofConfined();
                 DeviceBuffer weights = context.allocate(format.matrixBytes(rows, cols));
                 DeviceBuffer out = context.allocate(2L * rows * cols + 4)) {
                MemorySegment host = RandomWeights.matrix(arena, random, format, rows, cols);
                weights.copyFrom(host, stream);
                out.fillWords(NAN_BITS, stream);
                kernels.dequantize(stream, format, weights, out, rows, cols);
                MemorySegment result = arena.allocate(out.byteSize());
                out.copyTo(result, stream);
                for (int r = 0; r < rows; r++) {
                    float[] expected = Dequantize.row(format, host, r, cols);
                    for (int c = 0; c < cols; c++) {
                        short bits = result.get(HALF, 2L * ((long) r * cols + c));
                        short wanted = Float.floatToFloat16(expected[c]);
                        boolean sameSign = (bits ^ wanted) >= 0 || bits == wanted;
                        boolean equal = Float.float16ToFloat(bits) == Float.float16ToFloat(wanted); // +0 and -0 too
                        assertThat(equal || sameSign && Math.abs(bits - wanted) <= allowedSteps)
                                .as("%s %dx%d element (%d, %d): %s for %s", format, rows, cols, r, c,
                                        Float.float16ToFloat(bits), expected[c]).isTrue();
                    }
                }
                assertThat(result.get(ValueLayout.JAVA_INT_UNALIGNED, 2L * rows * cols)).as("past the end").isEqualTo(NAN_BITS);
            }
        }
    }

    /** LLM.int8 rows times their scale, rounded to fp16: exactly the reference (one product per weight). */
    @Test
    void int8RowsAreDequantizedWithTheirScales() {
        assumeDevice();
        for (int[] shape : new int[][] {{1, 4}, {37, 172}, {301, 2048}}) {
            int rows = shape[0];
            int cols = shape[1];
            byte[] codes = new byte[rows * cols];
            random.nextBytes(codes);
            float[] scales = new float[rows];
            for (int r = 0; r < rows; r++) {
                scales[r] = (float) (random.nextDouble() * 0.02 + 1e-4);
            }
            try (Arena arena = Arena.ofConfined();
                 DeviceBuffer weights = context.allocate(codes.length);
                 DeviceBuffer scaleBuffer = context.allocate(4L * rows);
                 DeviceBuffer out = context.allocate(2L * rows * cols + 4)) {
                weights.copyFrom(arena.allocateFrom(ValueLayout.JAVA_BYTE, codes), stream);
                scaleBuffer.copyFrom(arena.allocateFrom(ValueLayout.JAVA_FLOAT, scales), stream);
                out.fillWords(NAN_BITS, stream);
                kernels.dequantizeInt8(stream, weights, scaleBuffer, out, rows, cols);
                MemorySegment result = arena.allocate(out.byteSize());
                out.copyTo(result, stream);
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < cols; c++) {
                        short bits = result.get(HALF, 2L * ((long) r * cols + c));
                        assertThat(bits).as("INT8 %dx%d element (%d, %d)", rows, cols, r, c)
                                .isEqualTo(Float.floatToFloat16(codes[r * cols + c] * scales[r]));
                    }
                }
                assertThat(result.get(ValueLayout.JAVA_INT_UNALIGNED, 2L * rows * cols)).as("past the end").isEqualTo(NAN_BITS);
            }
        }
    }

    /** The embedding tables the batched path looks rows up in (other types use an F32 copy). */
    @ParameterizedTest
    @EnumSource(value = WeightFormat.class, names = {"F16", "Q8_0", "Q4_0"})
    void embeddingRowsOfABatch(WeightFormat format) {
        assumeDevice();
        int rows = 301;
        int cols = 2080;
        int[] tokens = {300, 0, 17, 17, 299, 5, 123};
        DecodeKernels.RowFormat rowFormat = DecodeKernels.RowFormat.valueOf(format.name());
        try (Arena arena = Arena.ofConfined();
             DeviceBuffer table = context.allocate(format.matrixBytes(rows, cols));
             DeviceBuffer ids = context.allocate(4L * tokens.length);
             DeviceBuffer out = context.allocate(4L * tokens.length * cols)) {
            MemorySegment host = RandomWeights.matrix(arena, random, format, rows, cols);
            table.copyFrom(host, stream);
            ids.copyFrom(arena.allocateFrom(ValueLayout.JAVA_INT, tokens), stream);
            out.fillWords(NAN_BITS, stream);
            kernels.embedRows(stream, rowFormat, table, ids, tokens.length, out, cols);
            float[] actual = download(arena, out, tokens.length * cols);
            for (int i = 0; i < tokens.length; i++) {
                float[] expected = Dequantize.row(format, host, tokens[i], cols);
                assertThat(java.util.Arrays.copyOfRange(actual, i * cols, (i + 1) * cols)).as("%s row %d", format, i)
                        .containsExactly(expected);
            }
        }
    }

    @Test
    void halfConversionAndSwigluRows() {
        assumeDevice();
        int rows = 13;
        int ff = 173;
        float[] gateUp = RandomWeights.gaussian(random, rows * 2 * ff, 2.0);
        float[] swiglu = halves(run(gateUp, rows * ff, (in, out) -> kernels.swigluRows(stream, in, out, rows, ff)));
        assertThat(relativeError(swiglu, PrefillReference.swigluRows(gateUp, rows, ff))).isLessThan(2e-3);
        float[] converted = halves(run(gateUp, gateUp.length, (in, out) -> kernels.toHalf(stream, in, out, gateUp.length)));
        for (int i = 0; i < gateUp.length; i++) {
            assertThat(converted[i]).isEqualTo(Float.float16ToFloat(Float.floatToFloat16(gateUp[i])));
        }
    }

    @Test
    void causalSoftmaxMasksFuturePositions() {
        assumeDevice();
        int heads = 3;
        int tokens = 37;
        int start = 6;
        int positions = start + tokens + 5; // rows longer than the last token needs
        float[] scores = RandomWeights.gaussian(random, heads * tokens * positions, 4.0);
        try (Arena arena = Arena.ofConfined();
             DeviceBuffer s = upload(arena, scores)) {
            kernels.causalSoftmax(stream, s, heads, tokens, positions, start, 40);
            float[] expected = PrefillReference.causalSoftmax(scores, heads * tokens, tokens, positions, start, 40);
            float[] actual = download(arena, s, scores.length);
            assertThat(relativeError(actual, expected)).isLessThan(1e-5);
            for (int r = 0; r < heads * tokens; r++) {
                for (int p = start + r % tokens + 1; p < positions; p++) {
                    assertThat(actual[r * positions + p]).as("row %d, masked position %d", r, p).isZero();
                }
            }
        }
    }

    @Test
    void biasIsAddedToTheFirstColumnsOfEveryRow() {
        assumeDevice();
        int rows = 9;
        int width = 37;
        int stride = 50;
        float[] x = RandomWeights.gaussian(random, rows * stride, 1.0);
        float[] bias = RandomWeights.gaussian(random, width, 1.0);
        try (Arena arena = Arena.ofConfined();
             DeviceBuffer xs = upload(arena, x);
             DeviceBuffer b = upload(arena, bias)) {
            kernels.addToRows(stream, xs, b, rows, width, stride);
            float[] actual = download(arena, xs, x.length);
            for (int i = 0; i < x.length; i++) {
                float expected = i % stride < width ? x[i] + bias[i % stride] : x[i];
                assertThat(actual[i]).as("element %d", i).isEqualTo(expected);
            }
        }
    }

    @Test
    void ropeStoresEveryRowAtItsPositionAndAttentionIsCausal() {
        assumeDevice();
        AttentionShape shape = new AttentionShape(6, 2, 40);
        int tokens = 37;
        int start = 5;
        int capacity = start + tokens + 3;
        int width = shape.queryDim() + 2 * shape.kvDim();
        float[] qkv = RandomWeights.gaussian(random, tokens * width, 1.0);
        float[] keys = RandomWeights.gaussian(random, capacity * shape.kvDim(), 1.0);
        float[] values = RandomWeights.gaussian(random, capacity * shape.kvDim(), 1.0);
        double[] inverse = new double[shape.headDim() / 2];
        for (int k = 0; k < inverse.length; k++) {
            inverse[k] = Math.pow(10000, -2.0 * k / shape.headDim());
        }
        try (Arena arena = Arena.ofConfined();
             DeviceBuffer qkvs = upload(arena, qkv);
             DeviceBuffer keyCache = upload(arena, keys);
             DeviceBuffer valueCache = upload(arena, values);
             DeviceBuffer frequencies = context.allocate(8L * inverse.length);
             DeviceBuffer out = context.allocate(4L * tokens * shape.queryDim())) {
            frequencies.copyFrom(arena.allocateFrom(ValueLayout.JAVA_DOUBLE, inverse), stream);
            kernels.ropeAndStore(stream, shape, shape.headDim(), DecodeKernels.RopePairs.ADJACENT, qkvs, tokens, start,
                    keyCache, valueCache, frequencies);
            float[] rotated = PrefillReference.ropeRows(qkv, inverse, tokens, start, shape.heads(), shape.kvHeads(),
                    shape.headDim());
            // q is rotated in place; k goes rotated into the cache only, v as it is
            float[] expectedQkv = qkv.clone();
            for (int t = 0; t < tokens; t++) {
                System.arraycopy(rotated, t * width, expectedQkv, t * width, shape.queryDim());
            }
            assertThat(relativeError(download(arena, qkvs, qkv.length), expectedQkv)).as("rotated q").isLessThan(1e-4);
            float[] expectedKeys = keys.clone();
            float[] expectedValues = values.clone();
            for (int t = 0; t < tokens; t++) {
                System.arraycopy(rotated, t * width + shape.queryDim(), expectedKeys, (start + t) * shape.kvDim(), shape.kvDim());
                System.arraycopy(qkv, t * width + shape.queryDim() + shape.kvDim(), expectedValues, (start + t) * shape.kvDim(),
                        shape.kvDim());
            }
            float[] cachedKeys = download(arena, keyCache, keys.length);
            assertThat(relativeError(cachedKeys, expectedKeys)).as("key cache").isLessThan(1e-4);
            assertThat(download(arena, valueCache, values.length)).as("value cache").containsExactly(expectedValues);

            out.fillWords(NAN_BITS, stream);
            kernels.attention(stream, shape, qkvs, width, tokens, start, keyCache, valueCache, out);
            float[] expected = PrefillReference.attention(download(arena, qkvs, qkv.length), width, cachedKeys,
                    expectedValues, tokens, start, shape.heads(), shape.kvHeads(), shape.headDim());
            assertThat(relativeError(download(arena, out, expected.length), expected)).as("attention").isLessThan(1e-4);
        }
    }

    private interface Launch {
        void run(DeviceBuffer in, DeviceBuffer out);
    }

    /** Uploads {@code input}, runs {@code launch} into a NaN-poisoned fp16 buffer of n halves, returns its bits. */
    private static short[] run(float[] input, int n, Launch launch) {
        try (Arena arena = Arena.ofConfined();
             DeviceBuffer in = upload(arena, input);
             DeviceBuffer out = context.allocate(2L * n + 2)) {
            out.fillBytes((byte) 0xFF, stream); // 0xFFFF: an fp16 NaN
            launch.run(in, out);
            MemorySegment result = arena.allocate(2L * n);
            out.copyTo(result, stream);
            return result.toArray(ValueLayout.JAVA_SHORT);
        }
    }

    private static float[] halves(short[] bits) {
        float[] values = new float[bits.length];
        for (int i = 0; i < bits.length; i++) {
            values[i] = Float.float16ToFloat(bits[i]);
        }
        return values;
    }

    private static DeviceBuffer upload(Arena arena, float[] values) {
        DeviceBuffer buffer = context.allocate(4L * values.length);
        buffer.copyFrom(arena.allocateFrom(ValueLayout.JAVA_FLOAT, values), stream);
        return buffer;
    }

    private static float[] download(Arena arena, DeviceBuffer buffer, int n) {
        MemorySegment host = arena.allocate(4L * n);
        buffer.copyTo(host, stream);
        return host.toArray(ValueLayout.JAVA_FLOAT);
    }

    /** ||actual - expected|| / ||expected||; NaN anywhere gives NaN, which fails every isLessThan. */
    private static double relativeError(float[] actual, float[] expected) {
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = (double) actual[i] - expected[i];
            diff += d * d;
            norm += (double) expected[i] * expected[i];
        }
        return Math.sqrt(diff / norm);
    }
}
