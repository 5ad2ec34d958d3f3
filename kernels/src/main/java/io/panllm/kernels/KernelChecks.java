package io.panllm.kernels;

import io.panllm.kernels.reference.Dequantize;
import io.panllm.kernels.reference.Dp4aReference;
import io.panllm.kernels.reference.GemvReference;
import io.panllm.kernels.reference.LayerReference;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;

/**
 * Correctness checks of every kernel against its CPU reference: fresh random inputs, the output
 * poisoned with NaN before the launch (an unwritten element fails), and the relative error
 * ||gpu - ref|| / ||ref||. Used by the JUnit device tests and by {@link DeviceCheck}.
 */
public final class KernelChecks implements AutoCloseable {
    /** Tolerance for kernels that compute in fp32 (inputs exact in both, only rounding differs). */
    public static final double FP32_TOLERANCE = 1e-4;

    /** @param name what was checked  @param shape its size  @param relativeError NaN if outputs were NaN */
    public record Result(String name, String shape, double relativeError, double tolerance) {
        public boolean passed() {
            return relativeError < tolerance; // false for NaN
        }
    }

    private static final int NAN_BITS = Float.floatToRawIntBits(Float.NaN);

    private final CudaContext context;
    private final Random random;
    private final CudaStream stream;
    private final GemvKernels gemv;
    private final LayerKernels layer;
    private final DecodeKernels decode;
    private final Dp4aGemv dp4a;

    public KernelChecks(CudaContext context, Random random) {
        this.context = context;
        this.random = random;
        this.stream = context.createStream();
        this.gemv = new GemvKernels(context);
        this.layer = new LayerKernels(context);
        this.decode = new DecodeKernels(context);
        this.dp4a = new Dp4aGemv(context);
    }

    public Dp4aGemv dp4aKernels() {
        return dp4a;
    }

    /**
     * The smallest row width {@link Dp4aGemv} takes for {@code format} (null: INT8) that is at least
     * {@code cols}: whole units and 16-byte aligned rows (Q4_0 256, Q6_K 2048, ...).
     */
    public static int dp4aColumns(WeightFormat format, int cols) {
        int unit = 32;
        while (format == null ? !Dp4aGemv.takesInt8(unit) : !Dp4aGemv.takes(format, unit)) {
            unit += 32;
        }
        return (cols + unit - 1) / unit * unit;
    }

    /**
     * The int8 activations of the quantize kernel against the CPU's, code for code and scale for
     * scale (the error is the share of differing codes plus the relative error of the (d, s) pairs);
     * x has a zero block and a block with one large value.
     */
    public Result quantizeActivations(int cols) {
        float[] x = RandomWeights.gaussian(random, cols, 1.0);
        Arrays.fill(x, 0, 32, 0f);
        x[40] = 50f;
        byte[] expected = Dp4aReference.codes(x);
        long bytes = Dp4aGemv.activationBytes(cols);
        try (Arena arena = Arena.ofConfined(); DeviceBuffer xBuffer = upload(x); DeviceBuffer xq = context.allocate(bytes)) {
            xq.fillBytes((byte) 0x55, stream);
            dp4a.quantize(stream, xBuffer, xq, cols);
            MemorySegment host = arena.allocate(bytes);
            xq.copyTo(host, stream);
            int differing = 0;
            for (int i = 0; i < cols; i++) {
                differing += host.get(ValueLayout.JAVA_BYTE, i) != expected[i] ? 1 : 0;
            }
            float[] meta = host.asSlice(cols, 8L * (cols / 32)).toArray(ValueLayout.JAVA_FLOAT);
            float[] expectedMeta = new float[meta.length];
            for (int b = 0; b < cols / 32; b++) {
                float d = Dp4aReference.scale(x, b);
                int sum = 0;
                for (int i = 32 * b; i < 32 * b + 32; i++) {
                    sum += expected[i];
                }
                expectedMeta[2 * b] = d;
                expectedMeta[2 * b + 1] = d * sum;
            }
            double error = (double) differing / cols + relativeError(meta, expectedMeta);
            return compare("quantize x to int8 blocks (dp4a)", String.valueOf(cols), error);
        }
    }

    /** y = W x^ with the dp4a kernel of {@code format}, against {@link Dp4aReference}. */
    public Result gemvDp4a(WeightFormat format, int rows, int cols) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment hostWeights = RandomWeights.matrix(arena, random, format, rows, cols);
            float[] x = RandomWeights.gaussian(random, cols, 1.0);
            float[] expected = Dp4aReference.multiply(format, hostWeights, x, rows, cols);
            try (DeviceBuffer weights = context.allocate(hostWeights.byteSize());
                 DeviceBuffer xBuffer = upload(x);
                 DeviceBuffer xq = context.allocate(Dp4aGemv.activationBytes(cols));
                 DeviceBuffer y = poisoned(rows)) {
                weights.copyFrom(hostWeights, stream);
                dp4a.quantize(stream, xBuffer, xq, cols);
                dp4a.gemv(stream, format, weights, xq, y, rows, cols);
                return compare("gemv " + format + " dp4a", rows + "x" + cols, download(y, rows), expected);
            }
        }
    }

    /** y = W x^ for random LLM.int8 rows with the dp4a kernel, against {@link Dp4aReference}. */
    public Result gemvDp4aInt8(int rows, int cols) {
        byte[] codes = new byte[rows * cols];
        random.nextBytes(codes);
        float[] scales = new float[rows];
        for (int r = 0; r < rows; r++) {
            scales[r] = (float) (random.nextDouble() * 0.02 + 1e-4);
        }
        float[] x = RandomWeights.gaussian(random, cols, 1.0);
        float[] expected = Dp4aReference.multiplyInt8(codes, scales, x, rows, cols);
        try (Arena arena = Arena.ofConfined();
             DeviceBuffer weights = context.allocate(codes.length);
             DeviceBuffer scaleBuffer = upload(scales);
             DeviceBuffer xBuffer = upload(x);
             DeviceBuffer xq = context.allocate(Dp4aGemv.activationBytes(cols));
             DeviceBuffer y = poisoned(rows)) {
            weights.copyFrom(arena.allocateFrom(ValueLayout.JAVA_BYTE, codes), stream);
            dp4a.quantize(stream, xBuffer, xq, cols);
            dp4a.gemvInt8(stream, weights, scaleBuffer, xq, y, rows, cols);
            return compare("gemv INT8 dp4a", rows + "x" + cols, download(y, rows), expected);
        }
    }

    public GemvKernels gemvKernels() {
        return gemv;
    }

    public LayerKernels layerKernels() {
        return layer;
    }

    public DecodeKernels decodeKernels() {
        return decode;
    }

    /**
     * {@code cols} rounded up to whole blocks of {@code format} (and whole 32-weight chunks), so that
     * one list of awkward widths serves every format: 96 is 3 blocks of Q4_0 and 768 of Q4_K.
     */
    public static int columns(WeightFormat format, int cols) {
        int unit = Math.max(32, format.blockSize);
        return (cols + unit - 1) / unit * unit;
    }

    /** y = W x for random W in {@code format} and random x, with the given kernel variant. */
    public Result gemv(WeightFormat format, GemvKernels.Variant variant, int rows, int cols) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment hostWeights = RandomWeights.matrix(arena, random, format, rows, cols);
            float[] x = RandomWeights.gaussian(random, cols, 1.0);
            float[] expected = GemvReference.multiply(format, hostWeights, x, rows, cols);
            try (DeviceBuffer weights = context.allocate(hostWeights.byteSize());
                 DeviceBuffer xBuffer = upload(x);
                 DeviceBuffer y = poisoned(rows)) {
                weights.copyFrom(hostWeights, stream);
                gemv.gemv(stream, format, variant, weights, xBuffer, y, rows, cols);
                return compare("gemv " + format + " " + variant, rows + "x" + cols, download(y, rows), expected);
            }
        }
    }

    /**
     * y = W x for random LLM.int8 weights: int8 codes (every value of -128..127), a random positive
     * scale per row (SCB / 127); the reference sums in double.
     */
    public Result gemvInt8(int rows, int cols) {
        byte[] codes = new byte[rows * cols];
        random.nextBytes(codes);
        float[] scales = new float[rows];
        for (int r = 0; r < rows; r++) {
            scales[r] = (float) (random.nextDouble() * 0.02 + 1e-4);
        }
        float[] x = RandomWeights.gaussian(random, cols, 1.0);
        float[] expected = new float[rows];
        for (int r = 0; r < rows; r++) {
            double sum = 0;
            for (int c = 0; c < cols; c++) {
                sum += codes[r * cols + c] * (double) x[c];
            }
            expected[r] = (float) (sum * scales[r]);
        }
        try (Arena arena = Arena.ofConfined();
             DeviceBuffer weights = context.allocate(codes.length);
             DeviceBuffer scaleBuffer = upload(scales);
             DeviceBuffer xBuffer = upload(x);
             DeviceBuffer y = poisoned(rows)) {
            weights.copyFrom(arena.allocateFrom(ValueLayout.JAVA_BYTE, codes), stream);
            gemv.gemvInt8(stream, weights, scaleBuffer, xBuffer, y, rows, cols);
            return compare("gemv INT8 (LLM.int8 rows)", rows + "x" + cols, download(y, rows), expected);
        }
    }

    /** The embedding row of a random token, read from a device-side id. */
    public Result embed(DecodeKernels.RowFormat format, int rows, int cols) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment hostWeights = RandomWeights.rows(arena, random, format, rows, cols);
            int token = random.nextInt(rows);
            try (DeviceBuffer weights = context.allocate(hostWeights.byteSize());
                 DeviceBuffer tokenBuffer = uploadInt(token);
                 DeviceBuffer out = poisoned(cols)) {
                weights.copyFrom(hostWeights, stream);
                decode.embed(stream, format, weights, tokenBuffer, out, cols);
                return compare("embed " + format, rows + "x" + cols + " token " + token, download(out, cols),
                        Dequantize.row(format, hostWeights, token, cols));
            }
        }
    }

    /** Greedy argmax over random logits; the error is 0 if the index is the CPU's, else 1. */
    /**
     * Greedy argmax over random logits, three launches on one buffer (the grid's completion counter
     * must come back to zero each time); the third with the maximum at several places (the lowest
     * index wins). The error is 0 if every index is the CPU's, else 1.
     */
    public Result argmax(int n) {
        try (DeviceBuffer result = context.allocate(DecodeKernels.ARGMAX_BUFFER_BYTES)) {
            result.fillWords(0, stream);
            StringBuilder found = new StringBuilder();
            boolean allRight = true;
            for (int launch = 0; launch < 3; launch++) {
                float[] logits = RandomWeights.gaussian(random, n, 3.0);
                if (launch == 2) {
                    for (int i = n / 3; i < n; i += Math.max(1, n / 5)) {
                        logits[i] = 100f;
                    }
                }
                int expected = 0;
                for (int i = 1; i < n; i++) {
                    if (logits[i] > logits[expected]) {
                        expected = i;
                    }
                }
                try (DeviceBuffer values = upload(logits)) {
                    result.slice(0, 4).fillWords(-1, stream);
                    decode.argmax(stream, values, n, result);
                    int actual = downloadInt(result.slice(0, 4));
                    found.append(found.isEmpty() ? "" : ", ").append(actual);
                    allRight &= actual == expected;
                }
            }
            return compare("argmax (3 launches)", n + " -> " + found, allRight ? 0 : 1);
        }
    }

    /**
     * RoPE of q and k with the KV-cache append (one launch), at a device-side position of a cache
     * of {@code slots} positions: q rotated in place, rotated k and v in their cache rows, every
     * other row untouched (still NaN). The error is the worst of the three parts'.
     */
    public Result ropeAndStore(DecodeKernels.AttentionShape shape, int ropeDim, DecodeKernels.RopePairs pairs,
                               int slots, int position) {
        int kvDim = shape.kvDim();
        float[] q = RandomWeights.gaussian(random, shape.queryDim(), 1.0);
        float[] k = RandomWeights.gaussian(random, kvDim, 1.0);
        float[] v = RandomWeights.gaussian(random, kvDim, 1.0);
        double[] inverseFrequencies = new double[ropeDim / 2];
        for (int i = 0; i < inverseFrequencies.length; i++) {
            inverseFrequencies[i] = Math.pow(500000.0, -2.0 * i / ropeDim);
        }
        boolean halves = pairs == DecodeKernels.RopePairs.HALVES;
        try (Arena arena = Arena.ofConfined();
             DeviceBuffer qBuffer = upload(q); DeviceBuffer kBuffer = upload(k); DeviceBuffer vBuffer = upload(v);
             DeviceBuffer keys = poisoned(slots * kvDim); DeviceBuffer values = poisoned(slots * kvDim);
             DeviceBuffer frequencies = context.allocate(8L * inverseFrequencies.length);
             DeviceBuffer positionBuffer = uploadInt(position)) {
            frequencies.copyFrom(arena.allocateFrom(ValueLayout.JAVA_DOUBLE, inverseFrequencies), stream);
            decode.ropeAndStore(stream, shape, ropeDim, pairs, qBuffer, kBuffer, vBuffer, keys, values, frequencies,
                    positionBuffer);
            double error = relativeError(download(qBuffer, q.length),
                    LayerReference.rope(q, inverseFrequencies, position, shape.heads(), shape.headDim(), ropeDim, halves));
            float[] keyRows = download(keys, slots * kvDim);
            float[] valueRows = download(values, slots * kvDim);
            error = Math.max(error, relativeError(Arrays.copyOfRange(keyRows, position * kvDim, (position + 1) * kvDim),
                    LayerReference.rope(k, inverseFrequencies, position, shape.kvHeads(), shape.headDim(), ropeDim, halves)));
            error = Math.max(error, relativeError(Arrays.copyOfRange(valueRows, position * kvDim, (position + 1) * kvDim), v));
            for (int i = 0; i < slots * kvDim; i++) {
                boolean stored = i >= position * kvDim && i < (position + 1) * kvDim;
                if (!stored && !(Float.isNaN(keyRows[i]) && Float.isNaN(valueRows[i]))) {
                    error = Double.NaN; // wrote outside its row
                }
            }
            return compare("rope + store kv " + pairs, shape.heads() + "/" + shape.kvHeads() + "x" + shape.headDim()
                    + " rope " + ropeDim + " @" + position + " of " + slots, error);
        }
    }

    public Result rmsNorm(int rows, int n) {
        float[] x = RandomWeights.gaussian(random, rows * n, 2.0);
        float[] weight = RandomWeights.gaussian(random, n, 1.0);
        float eps = 1e-5f;
        try (DeviceBuffer xBuffer = upload(x); DeviceBuffer weightBuffer = upload(weight);
             DeviceBuffer out = poisoned(rows * n)) {
            layer.rmsNorm(stream, out, xBuffer, weightBuffer, rows, n, eps);
            return compare("rmsnorm", rows + "x" + n, download(out, rows * n),
                    LayerReference.rmsNorm(x, weight, rows, n, eps));
        }
    }

    /**
     * decode.ptx's one-CTA RMSNorm of a row, and with a delta the fused residual add: x += delta
     * written back, then the norm of the sum (checked: the norm, and x afterwards).
     */
    public Result rmsNormRow(int n, boolean withDelta) {
        float[] x = RandomWeights.gaussian(random, n, 2.0);
        float[] delta = RandomWeights.gaussian(random, n, 1.0);
        float[] weight = RandomWeights.gaussian(random, n, 1.0);
        float eps = 1e-5f;
        float[] sum = x.clone();
        if (withDelta) {
            for (int i = 0; i < n; i++) {
                sum[i] += delta[i];
            }
        }
        try (DeviceBuffer xBuffer = upload(x); DeviceBuffer deltaBuffer = upload(delta); DeviceBuffer weightBuffer = upload(weight);
             DeviceBuffer out = poisoned(n)) {
            if (withDelta) {
                decode.addRmsNorm(stream, out, xBuffer, deltaBuffer, weightBuffer, n, eps);
            } else {
                decode.rmsNorm(stream, out, xBuffer, weightBuffer, n, eps);
            }
            float[] normed = download(out, n);
            float[] residual = download(xBuffer, n);
            double error = Math.max(relativeError(normed, LayerReference.rmsNorm(sum, weight, 1, n, eps)),
                    relativeError(residual, sum));
            return compare(withDelta ? "add + rmsnorm row (decode)" : "rmsnorm row (decode)", String.valueOf(n), error);
        }
    }

    public Result swiglu(int n) {
        float[] gate = RandomWeights.gaussian(random, n, 3.0);
        float[] up = RandomWeights.gaussian(random, n, 1.0);
        try (DeviceBuffer gateBuffer = upload(gate); DeviceBuffer upBuffer = upload(up); DeviceBuffer out = poisoned(n)) {
            layer.swiglu(stream, out, gateBuffer, upBuffer, n);
            return compare("swiglu", String.valueOf(n), download(out, n), LayerReference.swiglu(gate, up));
        }
    }

    public Result add(int n) {
        float[] x = RandomWeights.gaussian(random, n, 1.0);
        float[] addend = RandomWeights.gaussian(random, n, 1.0);
        try (DeviceBuffer xBuffer = upload(x); DeviceBuffer addendBuffer = upload(addend)) {
            layer.add(stream, xBuffer, addendBuffer, n);
            return compare("add", String.valueOf(n), download(xBuffer, n), LayerReference.add(x, addend));
        }
    }

    public Result rope(int heads, int headDim, int position) {
        float[] x = RandomWeights.gaussian(random, heads * headDim, 1.0);
        float[] invFreq = LayerReference.inverseFrequencies(headDim, 500000.0);
        try (DeviceBuffer xBuffer = upload(x); DeviceBuffer freqBuffer = upload(invFreq);
             DeviceBuffer positionBuffer = uploadInt(position)) {
            layer.rope(stream, xBuffer, freqBuffer, positionBuffer, heads, headDim);
            return compare("rope", heads + "x" + headDim + " @" + position, download(xBuffer, heads * headDim),
                    LayerReference.rope(x, invFreq, position, heads, headDim));
        }
    }

    /**
     * Captures gemv + residual add into a graph, replays it three times with a different x each
     * time (written into the same device buffer before the replay), and checks the last result.
     */
    public Result graphReplay(WeightFormat format, int rows, int cols) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment hostWeights = RandomWeights.matrix(arena, random, format, rows, cols);
            float[] residual = RandomWeights.gaussian(random, rows, 1.0);
            try (DeviceBuffer weights = context.allocate(hostWeights.byteSize());
                 DeviceBuffer x = context.allocate(4L * cols);
                 DeviceBuffer y = context.allocate(4L * rows);
                 DeviceBuffer residualBuffer = upload(residual)) {
                weights.copyFrom(hostWeights, stream);
                try (CudaGraph graph = stream.capture(() -> {
                    y.fillWords(NAN_BITS, stream);
                    gemv.gemv(stream, format, weights, x, y, rows, cols);
                    layer.add(stream, y, residualBuffer, rows);
                })) {
                    float[] xs = null;
                    for (int replay = 0; replay < 3; replay++) {
                        xs = RandomWeights.gaussian(random, cols, 1.0);
                        copyIn(xs, x);
                        graph.launch(stream);
                        stream.synchronize();
                    }
                    float[] expected = LayerReference.add(GemvReference.multiply(format, hostWeights, xs, rows, cols), residual);
                    return compare("graph(gemv " + format + " + add) x3, " + graph.nodeCount() + " nodes",
                            rows + "x" + cols, download(y, rows), expected);
                }
            }
        }
    }

    /** out[tokens][outF] = a[tokens][inF] . w[outF][inF]^T through cuBLAS, inputs rounded to F16 or BF16. */
    public Result cublasLinear(Cublas.DataType type, int tokens, int outFeatures, int inFeatures) {
        float[] a = roundTo(type, RandomWeights.gaussian(random, tokens * inFeatures, 1.0));
        float[] w = roundTo(type, RandomWeights.gaussian(random, outFeatures * inFeatures, 0.05));
        float[] expected = new float[tokens * outFeatures];
        for (int t = 0; t < tokens; t++) {
            for (int o = 0; o < outFeatures; o++) {
                double sum = 0;
                for (int i = 0; i < inFeatures; i++) {
                    sum += (double) a[t * inFeatures + i] * w[o * inFeatures + i];
                }
                expected[t * outFeatures + o] = (float) sum;
            }
        }
        try (Cublas cublas = Cublas.create(stream);
             DeviceBuffer aBuffer = uploadHalf(type, a); DeviceBuffer wBuffer = uploadHalf(type, w);
             DeviceBuffer out = poisoned(tokens * outFeatures)) {
            cublas.linear(aBuffer, wBuffer, out, type, tokens, outFeatures, inFeatures);
            return compare("cublas linear " + type, tokens + "x" + inFeatures + " . (" + outFeatures + "x" + inFeatures + ")^T",
                    download(out, tokens * outFeatures), expected);
        }
    }

    private Result compare(String name, String shape, float[] actual, float[] expected) {
        return compare(name, shape, relativeError(actual, expected));
    }

    private static Result compare(String name, String shape, double error) {
        return new Result(name, shape, error, FP32_TOLERANCE);
    }

    /** ||actual - expected|| / ||expected||, NaN if any element of actual is not finite. */
    public static double relativeError(float[] actual, float[] expected) {
        double difference = 0;
        double norm = 0;
        for (int i = 0; i < expected.length; i++) {
            if (!Float.isFinite(actual[i])) {
                return Double.NaN;
            }
            double delta = (double) actual[i] - expected[i];
            difference += delta * delta;
            norm += (double) expected[i] * expected[i];
        }
        return Math.sqrt(difference) / Math.sqrt(norm);
    }

    private static float[] roundTo(Cublas.DataType type, float[] values) {
        for (int i = 0; i < values.length; i++) {
            values[i] = type == Cublas.DataType.BF16
                    ? Float.intBitsToFloat(bf16Bits(values[i]) << 16)
                    : Float.float16ToFloat(Float.floatToFloat16(values[i]));
        }
        return values;
    }

    /** Round-to-nearest-even float to bfloat16 (no NaN inputs here). */
    private static int bf16Bits(float value) {
        int bits = Float.floatToRawIntBits(value);
        return (bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16;
    }

    DeviceBuffer upload(float[] values) {
        DeviceBuffer buffer = context.allocate(4L * values.length);
        copyIn(values, buffer);
        return buffer;
    }

    private void copyIn(float[] values, DeviceBuffer buffer) {
        try (Arena arena = Arena.ofConfined()) {
            buffer.copyFrom(arena.allocateFrom(ValueLayout.JAVA_FLOAT, values), stream);
        }
    }

    private DeviceBuffer uploadInt(int value) {
        DeviceBuffer buffer = context.allocate(4);
        try (Arena arena = Arena.ofConfined()) {
            buffer.copyFrom(arena.allocateFrom(ValueLayout.JAVA_INT, value), stream);
        }
        return buffer;
    }

    private DeviceBuffer uploadHalf(Cublas.DataType type, float[] values) {
        DeviceBuffer buffer = context.allocate(2L * values.length);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(ValueLayout.JAVA_SHORT, values.length);
            for (int i = 0; i < values.length; i++) {
                host.setAtIndex(ValueLayout.JAVA_SHORT, i, type == Cublas.DataType.BF16
                        ? (short) bf16Bits(values[i]) : Float.floatToFloat16(values[i]));
            }
            buffer.copyFrom(host, stream);
        }
        return buffer;
    }

    /** A float buffer of n elements filled with NaN (enqueued on the check stream). */
    private DeviceBuffer poisoned(int n) {
        DeviceBuffer buffer = context.allocate(4L * n);
        buffer.fillWords(NAN_BITS, stream);
        return buffer;
    }

    private int downloadInt(DeviceBuffer buffer) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(ValueLayout.JAVA_INT);
            buffer.copyTo(host, stream);
            return host.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /** Copies n floats back after the work on the check stream. */
    private float[] download(DeviceBuffer buffer, int n) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(ValueLayout.JAVA_FLOAT, n);
            buffer.copyTo(host, stream);
            return host.toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    public CudaStream stream() {
        return stream;
    }

    @Override
    public void close() {
        dp4a.close();
        decode.close();
        layer.close();
        gemv.close();
        stream.close();
    }
}
