package io.panllm.kernels;

import io.panllm.kernels.reference.Dp4aReference;
import io.panllm.kernels.reference.GemvReference;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.IntConsumer;

/**
 * Device timings with CUDA events: warm-up first, then the median of many repetitions, each
 * repetition a batch of launches (per-launch time = batch time / launches). Weights rotate over
 * enough copies to exceed the L2 cache three times, so the figures are DRAM figures, not cache
 * ones. Each kernel is timed both from the stream (a host launch each) and as a CUDA graph
 * replay (the launch gaps removed), which is how a decode step will run.
 */
public final class KernelBenchmarks implements AutoCloseable {
    private static final int REPETITIONS = 15;
    private static final int MIN_LAUNCHES_PER_BATCH = 20;

    /**
     * @param bytes bytes a launch must move at least (each input read once, the output written once)
     * @param graphMicros median time per launch inside a graph replay
     * @param streamMicros median time per launch, launched one by one from the host
     * @param relativeError of the benchmark's own output against the CPU reference (NaN if not checked)
     */
    public record Timing(String name, String shape, long bytes, double graphMicros, double streamMicros,
                         double relativeError) {
        /** Achieved bandwidth in GB/s over the graph time. */
        public double gigabytesPerSecond() {
            return bytes / graphMicros / 1e3;
        }

        /** The time floor of moving {@link #bytes} at {@code bytesPerSecond}. */
        public double floorMicros(double bytesPerSecond) {
            return bytes / bytesPerSecond * 1e6;
        }
    }

    private final CudaContext context;
    private final CudaStream stream;
    private final GemvKernels gemv;
    private final Random random;
    private final CudaEvent start;
    private final CudaEvent end;

    public KernelBenchmarks(CudaContext context, CudaStream stream, GemvKernels gemv, Random random) {
        this.context = context;
        this.stream = stream;
        this.gemv = gemv;
        this.random = random;
        this.start = context.createEvent();
        this.end = context.createEvent();
    }

    /** Device-to-device copy of {@code bytes}: the practical bandwidth ceiling, in bytes (read + written) per second. */
    public double copyBandwidth(long bytes) {
        try (DeviceBuffer source = context.allocate(bytes); DeviceBuffer target = context.allocate(bytes)) {
            source.fillBytes((byte) 0x5A, stream);
            double micros = medianMicrosPerLaunch(8, i -> target.copyFromAsync(source, stream), false);
            return 2.0 * bytes / (micros * 1e-6);
        }
    }

    /**
     * y = W x at one shape with one kernel variant and at most {@code maxThreads} threads per CTA;
     * W copies rotate so each launch reads its weights from DRAM.
     */
    public Timing gemv(WeightFormat format, GemvKernels.Variant variant, int maxThreads, int rows, int cols) {
        long matrixBytes = format.matrixBytes(rows, cols);
        long l2 = context.device().l2CacheBytes();
        int copies = (int) Math.min(64, Math.max(1, (3 * l2 + matrixBytes - 1) / matrixBytes));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment hostWeights = RandomWeights.matrix(arena, random, format, rows, cols);
            float[] x = RandomWeights.gaussian(random, cols, 1.0);
            List<DeviceBuffer> weights = new ArrayList<>();
            try (DeviceBuffer xBuffer = context.allocate(4L * cols); DeviceBuffer y = context.allocate(4L * rows)) {
                xBuffer.copyFrom(arena.allocateFrom(ValueLayout.JAVA_FLOAT, x), stream);
                for (int i = 0; i < copies; i++) {
                    DeviceBuffer copy = context.allocate(matrixBytes);
                    weights.add(copy);
                    copy.copyFrom(hostWeights, stream);
                }
                IntConsumer launch = i -> gemv.gemv(stream, format, variant, maxThreads, weights.get(i % copies), xBuffer, y,
                        rows, cols);
                int launches = Math.max(copies, MIN_LAUNCHES_PER_BATCH);
                double streamMicros = medianMicrosPerLaunch(launches, launch, false);
                double graphMicros = medianMicrosPerLaunch(launches, launch, true);
                // the output of the last launch against the CPU (every copy holds the same weights)
                y.fillWords(Float.floatToRawIntBits(Float.NaN), stream);
                launch.accept(0);
                MemorySegment result = arena.allocate(ValueLayout.JAVA_FLOAT, rows);
                y.copyTo(result, stream);
                float[] expected = GemvReference.multiply(format, hostWeights, x, rows, cols);
                double error = KernelChecks.relativeError(result.toArray(ValueLayout.JAVA_FLOAT), expected);
                long bytes = matrixBytes + 4L * cols + 4L * rows;
                String name = "gemv " + format + switch (variant) {
                    case ONE_ROW_PER_CTA -> " v1 row/CTA";
                    case FOUR_ROWS_PER_CTA -> " v2 4 rows/CTA";
                    case FOUR_ROWS_HALF_BLOCKS -> " v3 4 rows/CTA, half blocks";
                    case FOUR_ROWS_PER_WARP -> " v4 4 rows/warp, half blocks";
                    case FOUR_ROWS_PER_WARP_PIPELINED -> " v5 v4 pipelined";
                    case ONE_ROW_PER_WARP -> " row/warp";
                }
                        + (maxThreads == GemvKernels.MAX_THREADS ? "" : " " + maxThreads + " thr");
                return new Timing(name, rows + "x" + cols, bytes, graphMicros, streamMicros, error);
            } finally {
                weights.forEach(DeviceBuffer::close);
            }
        }
    }

    /**
     * y = W x^ with the dp4a kernel of {@code format} (null: INT8 rows with random row scales),
     * x quantized once before the timing (per step it is shared by several matrices; it is timed
     * on its own); W copies rotate as in {@link #gemv}. Checked against {@link Dp4aReference}.
     */
    public Timing gemvDp4a(Dp4aGemv dp4a, WeightFormat format, int rows, int cols) {
        long matrixBytes = format == null ? (long) rows * cols : format.matrixBytes(rows, cols);
        long l2 = context.device().l2CacheBytes();
        int copies = (int) Math.min(64, Math.max(1, (3 * l2 + matrixBytes - 1) / matrixBytes));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment hostWeights;
            byte[] codes = null;
            float[] scales = new float[rows];
            if (format == null) {
                codes = new byte[Math.multiplyExact(rows, cols)];
                random.nextBytes(codes);
                for (int r = 0; r < rows; r++) {
                    scales[r] = (float) (random.nextDouble() * 0.02 + 1e-4);
                }
                hostWeights = arena.allocateFrom(ValueLayout.JAVA_BYTE, codes);
            } else {
                hostWeights = RandomWeights.matrix(arena, random, format, rows, cols);
            }
            float[] x = RandomWeights.gaussian(random, cols, 1.0);
            List<DeviceBuffer> weights = new ArrayList<>();
            try (DeviceBuffer xBuffer = context.allocate(4L * cols); DeviceBuffer y = context.allocate(4L * rows);
                 DeviceBuffer xq = context.allocate(Dp4aGemv.activationBytes(cols));
                 DeviceBuffer scaleBuffer = context.allocate(4L * rows)) {
                xBuffer.copyFrom(arena.allocateFrom(ValueLayout.JAVA_FLOAT, x), stream);
                scaleBuffer.copyFrom(arena.allocateFrom(ValueLayout.JAVA_FLOAT, scales), stream);
                for (int i = 0; i < copies; i++) {
                    DeviceBuffer copy = context.allocate(matrixBytes);
                    weights.add(copy);
                    copy.copyFrom(hostWeights, stream);
                }
                dp4a.quantize(stream, xBuffer, xq, cols);
                IntConsumer launch = format == null
                        ? i -> dp4a.gemvInt8(stream, weights.get(i % copies), scaleBuffer, xq, y, rows, cols)
                        : i -> dp4a.gemv(stream, format, weights.get(i % copies), xq, y, rows, cols);
                int launches = Math.max(copies, MIN_LAUNCHES_PER_BATCH);
                double streamMicros = medianMicrosPerLaunch(launches, launch, false);
                double graphMicros = medianMicrosPerLaunch(launches, launch, true);
                y.fillWords(Float.floatToRawIntBits(Float.NaN), stream);
                launch.accept(0);
                MemorySegment result = arena.allocate(ValueLayout.JAVA_FLOAT, rows);
                y.copyTo(result, stream);
                float[] expected = format == null ? Dp4aReference.multiplyInt8(codes, scales, x, rows, cols)
                        : Dp4aReference.multiply(format, hostWeights, x, rows, cols);
                double error = KernelChecks.relativeError(result.toArray(ValueLayout.JAVA_FLOAT), expected);
                long bytes = matrixBytes + Dp4aGemv.activationBytes(cols) + 4L * rows;
                return new Timing("gemv " + (format == null ? "INT8" : format) + " v6 dp4a", rows + "x" + cols, bytes,
                        graphMicros, streamMicros, error);
            } finally {
                weights.forEach(DeviceBuffer::close);
            }
        }
    }

    /** Times {@code launch} (called with 0, 1, 2, ...) for a kernel that moves {@code bytes}; no correctness check. */
    public Timing time(String name, String shape, long bytes, IntConsumer launch) {
        int launches = 50;
        return new Timing(name, shape, bytes, medianMicrosPerLaunch(launches, launch, true),
                medianMicrosPerLaunch(launches, launch, false), Double.NaN);
    }

    /** Median over {@link #REPETITIONS} batches of {@code launches} launches, in microseconds per launch. */
    private double medianMicrosPerLaunch(int launches, IntConsumer launch, boolean asGraph) {
        Runnable batch = () -> {
            for (int i = 0; i < launches; i++) {
                launch.accept(i);
            }
        };
        CudaGraph graph = asGraph ? stream.capture(batch) : null;
        try {
            Runnable run = graph != null ? () -> graph.launch(stream) : batch;
            run.run(); // warm-up: first-launch costs, clocks up
            run.run();
            stream.synchronize();
            double[] micros = new double[REPETITIONS];
            for (int r = 0; r < REPETITIONS; r++) {
                start.record(stream);
                run.run();
                end.record(stream);
                end.synchronize();
                micros[r] = end.millisSince(start) * 1e3 / launches;
            }
            Arrays.sort(micros);
            return micros[REPETITIONS / 2];
        } finally {
            if (graph != null) {
                graph.close();
            }
        }
    }

    @Override
    public void close() {
        start.close();
        end.close();
    }
}
