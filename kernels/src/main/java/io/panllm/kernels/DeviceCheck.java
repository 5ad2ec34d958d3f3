package io.panllm.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Runs every kernel check and the microbenchmarks on GPU 0 and prints two tables. Exit status 1
 * if a check fails, 2 if there is no usable GPU. Run it on the GPU machine (see kernels/NOTES.md):
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp panllm-native-bindings.jar:panllm-kernels.jar io.panllm.kernels.DeviceCheck [--quick]
 * </pre>
 * {@code --quick} skips the benchmarks; {@code --profile FORMAT VARIANT ROWS COLS} (e.g. {@code --profile Q4_0
 * FOUR_ROWS_PER_CTA 128256 2048}) only times that one GEMV, for a profiler such as ncu to watch.
 */
public final class DeviceCheck {
    /** Nominal HBM3 bandwidth of the H100 measured by a device-to-device copy (docs: about 3.0 TB/s). */
    private static final double NOMINAL_BYTES_PER_SECOND = 3.0e12;

    private DeviceCheck() {
    }

    public static void main(String[] args) {
        boolean quick = List.of(args).contains("--quick");
        // --formats Q4_K,Q6_K: benchmark only these formats' GEMVs (and skip the layer kernels)
        int formatsAt = List.of(args).indexOf("--formats");
        List<String> benchFormats = formatsAt >= 0 ? List.of(args[formatsAt + 1].split(",")) : null;
        boolean profile = args.length == 5 && args[0].equals("--profile");
        long seed = System.nanoTime();
        Random random = new Random(seed);
        CudaContext context;
        try {
            context = CudaContext.open(0);
        } catch (CudaUnavailableException e) {
            System.out.println("SKIPPED: " + e.getMessage());
            System.exit(2);
            return;
        }
        try (context; KernelChecks checks = new KernelChecks(context, random)) {
            CudaContext.MemoryInfo memory = context.memoryInfo();
            System.out.printf(Locale.ROOT, "device: %s, free %d MiB of %d MiB, random seed %d%n", context.device(),
                    memory.freeBytes() >> 20, memory.totalBytes() >> 20, seed);
            for (WeightFormat format : WeightFormat.values()) {
                for (GemvKernels.Variant variant : GemvKernels.Variant.values()) {
                    if (checks.gemvKernels().supports(format, variant)) {
                        CudaKernel kernel = checks.gemvKernels().kernel(format, variant);
                        System.out.printf(Locale.ROOT, "  %s: %d registers, %d bytes local memory%n", kernel.name(),
                                kernel.registers(), kernel.localBytes());
                    }
                }
            }
            for (WeightFormat format : DP4A_FORMATS) {
                CudaKernel kernel = checks.dp4aKernels().kernel(format);
                System.out.printf(Locale.ROOT, "  %s: %d registers, %d bytes local memory%n", kernel.name(),
                        kernel.registers(), kernel.localBytes());
            }
            if (profile) {
                try (KernelBenchmarks bench = new KernelBenchmarks(context, checks.stream(), checks.gemvKernels(), random)) {
                    KernelBenchmarks.Timing timing = bench.gemv(WeightFormat.valueOf(args[1]),
                            GemvKernels.Variant.valueOf(args[2]), GemvKernels.MAX_THREADS,
                            Integer.parseInt(args[3]), Integer.parseInt(args[4]));
                    System.out.printf(Locale.ROOT, "%s %s: %.2f us per launch (graph), relative error %.1e%n",
                            timing.name(), timing.shape(), timing.graphMicros(), timing.relativeError());
                }
                System.exit(0);
            }
            boolean allPassed = printChecks(runChecks(checks));
            if (List.of(args).contains("--dp4a")) {
                runDp4aBenchmarks(context, checks, random);
            } else if (!quick) {
                runBenchmarks(context, checks, random, benchFormats);
            }
            System.out.println(allPassed ? "ALL CHECKS PASSED" : "SOME CHECKS FAILED");
            System.exit(allPassed ? 0 : 1);
        }
    }

    /** The formats of the dp4a GEMVs (null: INT8 rows). */
    static final List<WeightFormat> DP4A_FORMATS = java.util.Arrays.asList(WeightFormat.Q4_0, WeightFormat.Q8_0,
            WeightFormat.IQ4_NL, WeightFormat.NF4, WeightFormat.Q4_K, WeightFormat.Q5_K, null);

    /**
     * The dp4a GEMV of {@code format} (null: INT8) at awkward sizes: one row, rows not a multiple of
     * the CTA's 8, widths that end in a partial stage, several stages.
     */
    static List<KernelChecks.Result> dp4aChecks(KernelChecks checks, WeightFormat format) {
        List<KernelChecks.Result> results = new ArrayList<>();
        int[][] shapes = {{1, 1}, {37, 3 * KernelChecks.dp4aColumns(format, 1)}, {4099, KernelChecks.dp4aColumns(format, 2144)},
                {302, KernelChecks.dp4aColumns(format, 8224)}};
        for (int[] shape : shapes) {
            int cols = KernelChecks.dp4aColumns(format, shape[1]);
            results.add(format == null ? checks.gemvDp4aInt8(shape[0], cols) : checks.gemvDp4a(format, shape[0], cols));
        }
        return results;
    }

    /** Every check at awkward sizes: rows not a multiple of 32, columns not of 256, a single block. */
    static List<KernelChecks.Result> runChecks(KernelChecks checks) {
        List<KernelChecks.Result> results = new ArrayList<>();
        for (WeightFormat format : WeightFormat.values()) {
            for (GemvKernels.Variant variant : GemvKernels.Variant.values()) {
                if (checks.gemvKernels().supports(format, variant)) {
                    int unit = KernelChecks.columns(format, 1);
                    results.add(checks.gemv(format, variant, 1, unit));
                    results.add(checks.gemv(format, variant, 37, 3 * unit));
                    results.add(checks.gemv(format, variant, 4099, KernelChecks.columns(format, 2144)));
                    // chunks > threads: the loop runs several times, not the same number on every lane
                    results.add(checks.gemv(format, variant, 302, KernelChecks.columns(format, 8224)));
                }
            }
        }
        results.add(checks.quantizeActivations(4096));
        results.add(checks.quantizeActivations(14336 + 32));
        for (WeightFormat format : DP4A_FORMATS) {
            results.addAll(dp4aChecks(checks, format));
        }
        for (DecodeKernels.RowFormat format : DecodeKernels.RowFormat.values()) {
            results.add(checks.embed(format, 1031, 2080));
        }
        results.add(checks.argmax(128256));
        results.add(checks.argmax(1000));
        results.add(checks.argmax(7));
        results.add(checks.ropeAndStore(new DecodeKernels.AttentionShape(32, 8, 64), 64, DecodeKernels.RopePairs.ADJACENT, 9, 5));
        results.add(checks.ropeAndStore(new DecodeKernels.AttentionShape(14, 2, 64), 32, DecodeKernels.RopePairs.HALVES, 4, 3));
        results.add(checks.rmsNorm(1, 2048));
        results.add(checks.rmsNorm(3, 4100));
        results.add(checks.rmsNorm(2, 8196)); // more float4s than threads: the loops run 3 times
        results.add(checks.swiglu(8192));
        results.add(checks.swiglu(14339));
        results.add(checks.add(4097));
        results.add(checks.rope(32, 64, 17));
        results.add(checks.rope(8, 128, 100_003));
        results.add(checks.graphReplay(WeightFormat.Q4_0, 2051, 2048));
        results.add(checks.cublasLinear(Cublas.DataType.F16, 7, 300, 256));
        results.add(checks.cublasLinear(Cublas.DataType.BF16, 33, 129, 512));
        return results;
    }

    private static boolean printChecks(List<KernelChecks.Result> results) {
        System.out.println();
        System.out.println("| check | shape | rel. error | tolerance | |");
        System.out.println("| --- | --- | ---: | ---: | --- |");
        boolean allPassed = true;
        for (KernelChecks.Result result : results) {
            System.out.printf(Locale.ROOT, "| %s | %s | %.2e | %.0e | %s |%n", result.name(), result.shape(),
                    result.relativeError(), result.tolerance(), result.passed() ? "ok" : "FAIL");
            allPassed &= result.passed();
        }
        return allPassed;
    }

    private static void runBenchmarks(CudaContext context, KernelChecks checks, Random random, List<String> formats) {
        try (KernelBenchmarks bench = new KernelBenchmarks(context, checks.stream(), checks.gemvKernels(), random)) {
            double copyBandwidth = bench.copyBandwidth(1L << 30);
            System.out.printf(Locale.ROOT, "%ndevice-to-device copy of 1 GiB: %.0f GB/s (read + write)%n", copyBandwidth / 1e9);
            List<KernelBenchmarks.Timing> timings = new ArrayList<>();
            int[][] shapes = {{2048, 2048}, {8192, 2048}, {2048, 8192}, {128256, 2048}, {4096, 4096}, {14336, 4096}, {4096, 14336}};
            for (WeightFormat format : WeightFormat.values()) {
                if (formats != null && !formats.contains(format.name())) {
                    continue;
                }
                for (GemvKernels.Variant variant : GemvKernels.Variant.values()) {
                    if (checks.gemvKernels().supports(format, variant)) {
                        for (int[] shape : shapes) {
                            timings.add(bench.gemv(format, variant, GemvKernels.MAX_THREADS, shape[0], shape[1]));
                        }
                    }
                }
            }
            if (formats == null) {
                timings.addAll(layerTimings(context, checks, bench));
            }
            System.out.println();
            System.out.printf(Locale.ROOT, "| kernel | shape | MB moved | floor us @%.0f GB/s | floor us @3000 GB/s | graph us | stream us | GB/s | of copy BW | rel. error |%n",
                    copyBandwidth / 1e9);
            System.out.println("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            for (KernelBenchmarks.Timing t : timings) {
                System.out.printf(Locale.ROOT, "| %s | %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f | %.0f%% | %.1e |%n",
                        t.name(), t.shape(), t.bytes() / 1e6, t.floorMicros(copyBandwidth),
                        t.floorMicros(NOMINAL_BYTES_PER_SECOND), t.graphMicros(), t.streamMicros(),
                        t.gigabytesPerSecond(), 100 * t.gigabytesPerSecond() * 1e9 / copyBandwidth, t.relativeError());
            }
            cublasTiming(context, checks);
        }
    }

    /**
     * The dp4a GEMVs at the Llama shapes, for Q4_0, Q8_0 and Q4_K next to the default kernel of the
     * format, F16's kernel at the same shapes, and the quantization of x; one table as runBenchmarks prints.
     */
    private static void runDp4aBenchmarks(CudaContext context, KernelChecks checks, Random random) {
        try (KernelBenchmarks bench = new KernelBenchmarks(context, checks.stream(), checks.gemvKernels(), random)) {
            double copyBandwidth = bench.copyBandwidth(1L << 30);
            System.out.printf(Locale.ROOT, "%ndevice-to-device copy of 1 GiB: %.0f GB/s (read + write)%n", copyBandwidth / 1e9);
            List<KernelBenchmarks.Timing> timings = new ArrayList<>();
            int[][] shapes = {{2048, 2048}, {8192, 2048}, {2048, 8192}, {128256, 2048}, {4096, 4096}, {14336, 4096}, {4096, 14336}};
            for (WeightFormat format : DP4A_FORMATS) {
                for (int[] shape : shapes) {
                    if (format == WeightFormat.Q4_0 || format == WeightFormat.Q8_0 || format == WeightFormat.Q4_K) {
                        timings.add(bench.gemv(format, GemvKernels.defaultVariant(format, shape[0], shape[1]),
                                GemvKernels.MAX_THREADS, shape[0], shape[1]));
                    }
                    timings.add(bench.gemvDp4a(checks.dp4aKernels(), format, shape[0], shape[1]));
                }
            }
            for (int[] shape : shapes) {
                timings.add(bench.gemv(WeightFormat.F16, GemvKernels.Variant.ONE_ROW_PER_CTA, GemvKernels.MAX_THREADS,
                        shape[0], shape[1]));
            }
            for (int cols : new int[] {2048, 4096, 14336}) {
                try (DeviceBuffer x = context.allocate(4L * cols); DeviceBuffer xq = context.allocate(Dp4aGemv.activationBytes(cols))) {
                    x.fillWords(Float.floatToRawIntBits(0.5f), checks.stream());
                    timings.add(bench.time("quantize x (dp4a)", String.valueOf(cols), 4L * cols + Dp4aGemv.activationBytes(cols),
                            i -> checks.dp4aKernels().quantize(checks.stream(), x, xq, cols)));
                }
            }
            System.out.println();
            System.out.println("| kernel | shape | MB moved | floor us | graph us | stream us | GB/s | of copy BW | rel. error |");
            System.out.println("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            for (KernelBenchmarks.Timing t : timings) {
                System.out.printf(Locale.ROOT, "| %s | %s | %.2f | %.2f | %.2f | %.2f | %.0f | %.0f%% | %.1e |%n",
                        t.name(), t.shape(), t.bytes() / 1e6, t.floorMicros(copyBandwidth), t.graphMicros(),
                        t.streamMicros(), t.gigabytesPerSecond(), 100 * t.gigabytesPerSecond() * 1e9 / copyBandwidth,
                        t.relativeError());
            }
        }
    }

    private static List<KernelBenchmarks.Timing> layerTimings(CudaContext context, KernelChecks checks,
                                                              KernelBenchmarks bench) {
        LayerKernels layer = checks.layerKernels();
        CudaStream stream = checks.stream();
        List<KernelBenchmarks.Timing> timings = new ArrayList<>();
        int n = 4096;
        int ffn = 14336;
        try (DeviceBuffer a = context.allocate(4L * ffn); DeviceBuffer b = context.allocate(4L * ffn);
             DeviceBuffer c = context.allocate(4L * ffn); DeviceBuffer position = context.allocate(4)) {
            a.fillWords(Float.floatToRawIntBits(0.5f), stream);
            b.fillWords(Float.floatToRawIntBits(0.25f), stream);
            position.fillWords(1234, stream);
            timings.add(bench.time("rmsnorm", "1x" + n, 12L * n, i -> layer.rmsNorm(stream, c, a, b, 1, n, 1e-5f)));
            timings.add(bench.time("swiglu", String.valueOf(ffn), 12L * ffn, i -> layer.swiglu(stream, c, a, b, ffn)));
            timings.add(bench.time("add", String.valueOf(n), 12L * n, i -> layer.add(stream, c, a, n)));
            timings.add(bench.time("rope", "32x128", 8L * n + 256, i -> layer.rope(stream, c, b, position, 32, 128)));
        }
        int vocabulary = 128256;
        try (DeviceBuffer logits = context.allocate(4L * vocabulary); DeviceBuffer index = context.allocate(4);
             Arena arena = Arena.ofConfined()) {
            // random logits: a constant array would make every comparison a tie
            logits.copyFrom(arena.allocateFrom(ValueLayout.JAVA_FLOAT,
                    RandomWeights.gaussian(new Random(7), vocabulary, 3.0)), stream);
            timings.add(bench.time("argmax (one CTA)", String.valueOf(vocabulary), 4L * vocabulary,
                    i -> checks.decodeKernels().argmax(stream, logits, vocabulary, index)));
        }
        return timings;
    }

    /** Prefill-sized products through cuBLAS, FP16 in, FP32 out. */
    private static void cublasTiming(CudaContext context, KernelChecks checks) {
        CudaStream stream = checks.stream();
        int[][] shapes = {{512, 2048, 2048}, {512, 8192, 2048}, {4096, 4096, 4096}};
        System.out.println();
        System.out.println("| cuBLAS GemmEx FP16->FP32 | tokens x out x in | ms | TFLOP/s |");
        System.out.println("| --- | --- | ---: | ---: |");
        try (Cublas cublas = Cublas.create(stream); CudaEvent start = context.createEvent();
             CudaEvent end = context.createEvent()) {
            for (int[] s : shapes) {
                int tokens = s[0];
                int out = s[1];
                int in = s[2];
                try (DeviceBuffer a = context.allocate(2L * tokens * in); DeviceBuffer w = context.allocate(2L * out * in);
                     DeviceBuffer c = context.allocate(4L * tokens * out); Arena arena = Arena.ofConfined()) {
                    // random-ish fp16 bits, never zeros (zeros run faster than real data)
                    a.fillWords(0x3C003A00, stream);
                    var host = arena.allocate(ValueLayout.JAVA_SHORT, (long) out * in);
                    Random random = new Random(1);
                    for (long i = 0; i < (long) out * in; i++) {
                        host.setAtIndex(ValueLayout.JAVA_SHORT, i, Float.floatToFloat16(random.nextFloat() - 0.5f));
                    }
                    w.copyFrom(host, stream);
                    for (int i = 0; i < 3; i++) {
                        cublas.linear(a, w, c, Cublas.DataType.F16, tokens, out, in);
                    }
                    int reps = 20;
                    start.record(stream);
                    for (int i = 0; i < reps; i++) {
                        cublas.linear(a, w, c, Cublas.DataType.F16, tokens, out, in);
                    }
                    end.record(stream);
                    end.synchronize();
                    double ms = end.millisSince(start) / reps;
                    System.out.printf(Locale.ROOT, "| linear | %dx%dx%d | %.3f | %.0f |%n", tokens, out, in, ms,
                            2.0 * tokens * out * in / (ms * 1e-3) / 1e12);
                }
            }
        }
    }
}
