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
            if (!quick) {
                runBenchmarks(context, checks, random);
            }
            System.out.println(allPassed ? "ALL CHECKS PASSED" : "SOME CHECKS FAILED");
            System.exit(allPassed ? 0 : 1);
        }
    }

    /** Every check at awkward sizes: rows not a multiple of 32, columns not of 256, a single block. */
    static List<KernelChecks.Result> runChecks(KernelChecks checks) {
        List<KernelChecks.Result> results = new ArrayList<>();
        for (WeightFormat format : WeightFormat.values()) {
            for (GemvKernels.Variant variant : GemvKernels.Variant.values()) {
                if (checks.gemvKernels().supports(format, variant)) {
                    results.add(checks.gemv(format, variant, 1, 32));
                    results.add(checks.gemv(format, variant, 37, 96));
                    results.add(checks.gemv(format, variant, 4099, 2144));
                    results.add(checks.gemv(format, variant, 302, 8224)); // chunks > threads: the loop runs 5 times
                }
            }
        }
        for (WeightFormat format : WeightFormat.values()) {
            results.add(checks.embed(format, 1031, 2080));
        }
        results.add(checks.argmax(128256));
        results.add(checks.argmax(1000));
        results.add(checks.argmax(7));
        results.add(checks.storeAtPosition(1027, 9, 5));
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

    private static void runBenchmarks(CudaContext context, KernelChecks checks, Random random) {
        try (KernelBenchmarks bench = new KernelBenchmarks(context, checks.stream(), checks.gemvKernels(), random)) {
            double copyBandwidth = bench.copyBandwidth(1L << 30);
            System.out.printf(Locale.ROOT, "%ndevice-to-device copy of 1 GiB: %.0f GB/s (read + write)%n", copyBandwidth / 1e9);
            List<KernelBenchmarks.Timing> timings = new ArrayList<>();
            int[][] shapes = {{2048, 2048}, {8192, 2048}, {2048, 8192}, {128256, 2048}, {4096, 4096}, {14336, 4096}, {4096, 14336}};
            for (WeightFormat format : WeightFormat.values()) {
                for (GemvKernels.Variant variant : GemvKernels.Variant.values()) {
                    if (checks.gemvKernels().supports(format, variant)) {
                        for (int[] shape : shapes) {
                            timings.add(bench.gemv(format, variant, GemvKernels.MAX_THREADS, shape[0], shape[1]));
                        }
                    }
                }
            }
            timings.addAll(layerTimings(context, checks, bench));
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
        try (DeviceBuffer cache = context.allocate(4L * 1024 * 16); DeviceBuffer value = context.allocate(4L * 1024);
             DeviceBuffer slot = context.allocate(4)) {
            value.fillWords(Float.floatToRawIntBits(0.5f), stream);
            slot.fillWords(7, stream);
            timings.add(bench.time("store at position", "1024", 8L * 1024,
                    i -> layer.storeAtPosition(stream, cache, value, 1024, slot)));
        }
        int vocabulary = 128256;
        try (DeviceBuffer logits = context.allocate(4L * vocabulary); DeviceBuffer index = context.allocate(4);
             Arena arena = Arena.ofConfined()) {
            // random logits: a constant array would make every comparison a tie
            logits.copyFrom(arena.allocateFrom(ValueLayout.JAVA_FLOAT,
                    RandomWeights.gaussian(new Random(7), vocabulary, 3.0)), stream);
            timings.add(bench.time("argmax (2 launches)", String.valueOf(vocabulary), 4L * vocabulary,
                    i -> layer.argmax(stream, logits, vocabulary, index)));
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
