package io.panllm.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.panllm.kernels.DecodeKernels.AttentionShape;
import io.panllm.kernels.DecodeKernels.RopePairs;
import io.panllm.kernels.reference.LayerReference;
import io.panllm.kernels.reference.PrefillReference;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The batched decode kernels against their CPU references on GPU 0: sequences at different
 * positions (0, 1, long) with their own caches, rows wider than q|k|v, outputs poisoned with NaN,
 * fresh random inputs each run. Skipped, with the reason, where there is no CUDA device.
 */
class BatchedDecodeKernelTest {
    private static final int NAN_BITS = Float.floatToRawIntBits(Float.NaN);
    private static final Random random = new Random(System.nanoTime());
    private static CudaContext context;
    private static CudaStream stream;
    private static BatchedDecodeKernels kernels;
    private static String unavailable;

    @BeforeAll
    static void open() {
        try {
            context = CudaContext.open(0);
            stream = context.createStream();
            kernels = new BatchedDecodeKernels(context);
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

    @Test
    void rowsOfAnOddWidthAreRefused() {
        assumeTrue(unavailable == null, () -> "no CUDA driver: " + unavailable);
        AttentionShape shape = new AttentionShape(4, 2, 8);
        try (DeviceBuffer any = context.allocate(4096)) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> kernels.attention(stream, shape, 1, any, 35, 2, any, any,
                    any, any)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("multiple of 4");
        }
    }

    @Test
    void llamaShapeAdjacentPairs() {
        check(new AttentionShape(32, 8, 64), 64, RopePairs.ADJACENT, new int[] {0, 1, 37, 1200, 5, 299, 64}, 3);
    }

    @Test
    void qwenShapeHalvesOfPartOfTheHeadOneSplit() {
        check(new AttentionShape(14, 2, 40), 24, RopePairs.HALVES, new int[] {2, 0, 513}, 1);
    }

    @Test
    void headDim128ManySequences() {
        int[] positions = new int[33];
        for (int s = 0; s < positions.length; s++) {
            positions[s] = random.nextInt(700);
        }
        check(new AttentionShape(8, 8, 128), 128, RopePairs.ADJACENT, positions, 2);
    }

    private static void check(AttentionShape shape, int ropeDim, RopePairs pairs, int[] positions, int splits) {
        assumeTrue(unavailable == null, () -> "no CUDA driver: " + unavailable);
        int sequences = positions.length;
        int width = shape.queryDim() + 2 * shape.kvDim();
        int stride = width + 4; // rows wider than q|k|v: the padding must stay untouched
        int kvDim = shape.kvDim();
        float[] qkv = RandomWeights.gaussian(random, sequences * stride, 1.0);
        double[] inverse = new double[ropeDim / 2];
        for (int k = 0; k < inverse.length; k++) {
            inverse[k] = Math.pow(10000, -2.0 * k / ropeDim) * (1 + random.nextDouble());
        }
        List<DeviceBuffer> buffers = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            float[][] keys = new float[sequences][];
            float[][] values = new float[sequences][];
            DeviceBuffer[] keyCaches = new DeviceBuffer[sequences];
            DeviceBuffer[] valueCaches = new DeviceBuffer[sequences];
            MemorySegment table = arena.allocate(BatchedDecodeKernels.KV_TABLE_ENTRY_BYTES * sequences);
            for (int s = 0; s < sequences; s++) {
                int capacity = positions[s] + 1 + random.nextInt(3);
                keys[s] = RandomWeights.gaussian(random, capacity * kvDim, 1.0);
                values[s] = RandomWeights.gaussian(random, capacity * kvDim, 1.0);
                keyCaches[s] = keep(buffers, upload(arena, keys[s]));
                valueCaches[s] = keep(buffers, upload(arena, values[s]));
                table.setAtIndex(ValueLayout.JAVA_LONG, 2L * s, keyCaches[s].address());
                table.setAtIndex(ValueLayout.JAVA_LONG, 2L * s + 1, valueCaches[s].address());
            }
            DeviceBuffer kvTable = keep(buffers, context.allocate(table.byteSize()));
            kvTable.copyFrom(table, stream);
            DeviceBuffer positionBuffer = keep(buffers, context.allocate(4L * sequences));
            positionBuffer.copyFrom(arena.allocateFrom(ValueLayout.JAVA_INT, positions), stream);
            DeviceBuffer frequencies = keep(buffers, context.allocate(8L * inverse.length));
            frequencies.copyFrom(arena.allocateFrom(ValueLayout.JAVA_DOUBLE, inverse), stream);
            DeviceBuffer rows = keep(buffers, upload(arena, qkv));

            kernels.ropeAndStore(stream, shape, ropeDim, pairs, rows, stride, sequences, kvTable, positionBuffer, frequencies);

            boolean halves = pairs == RopePairs.HALVES;
            float[] expectedRows = qkv.clone();
            for (int s = 0; s < sequences; s++) {
                int row = s * stride;
                float[] q = LayerReference.rope(Arrays.copyOfRange(qkv, row, row + shape.queryDim()), inverse, positions[s],
                        shape.heads(), shape.headDim(), ropeDim, halves);
                System.arraycopy(q, 0, expectedRows, row, q.length);
                float[] k = LayerReference.rope(Arrays.copyOfRange(qkv, row + shape.queryDim(), row + shape.queryDim() + kvDim),
                        inverse, positions[s], shape.kvHeads(), shape.headDim(), ropeDim, halves);
                System.arraycopy(k, 0, keys[s], positions[s] * kvDim, kvDim);
                System.arraycopy(qkv, row + shape.queryDim() + kvDim, values[s], positions[s] * kvDim, kvDim);
            }
            float[] actualRows = download(arena, rows, qkv.length);
            assertThat(relativeError(actualRows, expectedRows)).as("rotated q, k and v rows untouched").isLessThan(1e-5);
            for (int s = 0; s < sequences; s++) {
                assertThat(relativeError(download(arena, keyCaches[s], keys[s].length), keys[s]))
                        .as("key cache of sequence %d (only row %d written)", s, positions[s]).isLessThan(1e-5);
                // isEqualTo (Arrays.equals): containsExactly's diff is quadratic in the length of a cache
                assertThat(download(arena, valueCaches[s], values[s].length)).as("value cache of sequence %d", s)
                        .isEqualTo(values[s]);
            }

            DeviceBuffer partials = keep(buffers, context.allocate(BatchedDecodeKernels.partialBytes(shape, splits, sequences)));
            DeviceBuffer out = keep(buffers, context.allocate(4L * sequences * shape.queryDim()));
            out.fillWords(NAN_BITS, stream);
            partials.fillWords(NAN_BITS, stream);
            kernels.attention(stream, shape, splits, rows, stride, sequences, kvTable, positionBuffer, partials, out);
            float[] actual = download(arena, out, sequences * shape.queryDim());
            for (int s = 0; s < sequences; s++) {
                float[] expected = PrefillReference.attention(Arrays.copyOfRange(actualRows, s * stride, (s + 1) * stride),
                        stride, keys[s], values[s], 1, positions[s], shape.heads(), shape.kvHeads(), shape.headDim());
                float[] mine = Arrays.copyOfRange(actual, s * shape.queryDim(), (s + 1) * shape.queryDim());
                assertThat(relativeError(mine, expected)).as("attention of sequence %d at position %d", s, positions[s])
                        .isLessThan(1e-4);
            }
        } finally {
            buffers.forEach(DeviceBuffer::close);
        }
    }

    private static DeviceBuffer keep(List<DeviceBuffer> buffers, DeviceBuffer buffer) {
        buffers.add(buffer);
        return buffer;
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
            double d = actual[i] - expected[i];
            diff += d * d;
            norm += (double) expected[i] * expected[i];
        }
        return Math.sqrt(diff / norm);
    }
}
