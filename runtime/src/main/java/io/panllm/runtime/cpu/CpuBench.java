package io.panllm.runtime.cpu;

import io.panllm.runtime.Argmax;
import io.panllm.runtime.LanguageModel;
import io.panllm.runtime.Session;
import io.panllm.runtime.model.LlamaModel;
import io.panllm.runtime.model.ModelConfig;
import io.panllm.runtime.model.TensorView;
import io.panllm.tensor.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Times the CPU forward pass: decode (one token at a time) and prompt processing, on a GGUF file
 * or on a model of Llama 3.2-1B's shape with random weights built in memory (speed does not depend
 * on the weight values).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp ... io.panllm.runtime.cpu.CpuBench [options]
 *   --type Q4_0        matrix type of the random model (any type the CPU computes with that has fp16 block scales)
 *   --layers 16        layers of the random model (the rest is Llama 3.2-1B: dim 2048, 32/8 heads, ffn 8192, vocab 128256)
 *   --gguf FILE        time this file instead
 *   --threads N        default: available processors
 *   --decode 32        tokens to decode
 *   --prompt 64        prompt length to time as one batch (0 = skip)
 *   --kernel Q4_0      instead: one 8192 x 2048 matrix (-Dbench.rows=N for other heights) times a
 *                      vector, repeated: the kernel's throughput and, with --threads 1, its CPU time
 * </pre>
 *
 * Process CPU time is printed beside wall time: on a shared machine it shows what a token costs.
 */
public final class CpuBench {
    private CpuBench() {
    }

    public static void main(String[] args) {
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            options.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        int threads = Integer.parseInt(options.getOrDefault("threads", "" + Runtime.getRuntime().availableProcessors()));
        int decode = Integer.parseInt(options.getOrDefault("decode", "32"));
        int prompt = Integer.parseInt(options.getOrDefault("prompt", "64"));
        if (options.containsKey("kernel")) {
            kernel(GgmlType.valueOf(options.get("kernel").toUpperCase(Locale.ROOT)), threads);
            return;
        }
        try (CpuBackend backend = new CpuBackend(threads); Arena arena = Arena.ofShared()) {
            LanguageModel model;
            if (options.containsKey("gguf")) {
                model = LlamaModel.open(Path.of(options.get("gguf")), backend);
            } else {
                GgmlType type = GgmlType.valueOf(options.getOrDefault("type", "Q4_0").toUpperCase(Locale.ROOT));
                int layers = Integer.parseInt(options.getOrDefault("layers", "16"));
                ModelConfig config = new ModelConfig("llama", 2048, layers, 8192, 32, 8, 64, 1e-5f, 500000f, 64,
                        io.panllm.runtime.model.RopeLayout.ADJACENT_PAIRS, 1f, 131072, 128256);
                long start = System.nanoTime();
                model = LlamaModel.fromTensors(config, randomTensors(config, type, arena), backend);
                System.out.printf(Locale.ROOT, "built random model in %.1f s%n", (System.nanoTime() - start) / 1e9);
            }
            try (model) {
                System.out.println(model.description());
                run(model, decode, prompt);
            }
        }
    }

    private static void run(LanguageModel model, int decode, int prompt) {
        int vocab = model.vocabSize();
        try (Session session = model.newSession(Math.max(prompt, 1) + decode + 8)) {
            // Warm-up: let the JIT compile the kernels before timing.
            int token = 1;
            for (int i = 0; i < 8; i++) {
                token = Argmax.of(session.forward(new int[] {token % vocab}));
            }
            session.rewind(0);
            long cpuStart = processCpuNanos();
            long start = System.nanoTime();
            for (int i = 0; i < decode; i++) {
                token = Argmax.of(session.forward(new int[] {token % vocab}));
            }
            double msPerToken = (System.nanoTime() - start) / 1e6 / decode;
            // CPU time shows what a token costs when other processes share the machine.
            double cpuMsPerToken = (processCpuNanos() - cpuStart) / 1e6 / decode;
            System.out.printf(Locale.ROOT, "decode: %d tokens, %.1f ms/token, %.2f tokens/s (process CPU %.1f ms/token)%n",
                    decode, msPerToken, 1000 / msPerToken, cpuMsPerToken);
            if (prompt > 0) {
                session.rewind(0);
                int[] tokens = new int[prompt];
                for (int i = 0; i < prompt; i++) {
                    tokens[i] = (i * 7919 + 13) % vocab;
                }
                cpuStart = processCpuNanos();
                start = System.nanoTime();
                session.forward(tokens);
                double seconds = (System.nanoTime() - start) / 1e9;
                System.out.printf(Locale.ROOT, "prompt: %d tokens in %.2f s, %.1f tokens/s (process CPU %.2f s)%n", prompt,
                        seconds, prompt / seconds, (processCpuNanos() - cpuStart) / 1e9);
            }
        }
    }

    /** One 8192 x 2048 matrix (an ffn_up of the 1B shape) times a vector, over and over: the kernel's throughput. */
    private static void kernel(GgmlType type, int threads) {
        try (Arena arena = Arena.ofShared(); Parallel parallel = new Parallel(threads)) {
            int inputs = 2048;
            int outputs = Integer.getInteger("bench.rows", 8192);
            CpuMatrix matrix = new CpuMatrix(randomMatrix("w", type, inputs, outputs, new SplittableRandom(2), arena),
                    VectorKernels.of(type));
            float[] x = new float[inputs];
            java.util.Arrays.fill(x, 0.5f);
            float[] out = new float[outputs];
            long bytes = type.byteSize((long) inputs * outputs);
            for (int round = 0; round < 5; round++) {
                int reps = 200;
                var cpuClock = java.lang.management.ManagementFactory.getThreadMXBean();
                long cpuStart = cpuClock.getCurrentThreadCpuTime();
                long start = System.nanoTime();
                for (int i = 0; i < reps; i++) {
                    matrix.multiply(parallel, x, 1, out);
                }
                double seconds = (System.nanoTime() - start) / 1e9 / reps;
                // With one thread the work runs on this thread: its CPU time ignores other processes' load.
                double cpuSeconds = (cpuClock.getCurrentThreadCpuTime() - cpuStart) / 1e9 / reps;
                System.out.printf(Locale.ROOT, "%s %dx%d: %.3f ms, %.1f GB/s, %.2f G elements/s (this thread's CPU: %.3f ms)%n",
                        type, outputs, inputs, seconds * 1e3, bytes / seconds / 1e9, (double) inputs * outputs / seconds / 1e9,
                        cpuSeconds * 1e3);
            }
        }
    }

    private static long processCpuNanos() {
        return ProcessHandle.current().info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(0L);
    }

    /** Llama-shaped tensors with random blocks: matrices of {@code type}, norms F32 1.0, tied embeddings. */
    static Map<String, TensorView> randomTensors(ModelConfig c, GgmlType type, Arena arena) {
        SplittableRandom random = new SplittableRandom(1);
        Map<String, TensorView> t = new LinkedHashMap<>();
        int dim = c.embeddingLength();
        put(t, randomMatrix("token_embd.weight", type, dim, c.vocabSize(), random, arena));
        for (int l = 0; l < c.blockCount(); l++) {
            String p = "blk." + l + ".";
            put(t, ones(p + "attn_norm.weight", dim, arena));
            put(t, randomMatrix(p + "attn_q.weight", type, dim, c.queryDim(), random, arena));
            put(t, randomMatrix(p + "attn_k.weight", type, dim, c.kvDim(), random, arena));
            put(t, randomMatrix(p + "attn_v.weight", type, dim, c.kvDim(), random, arena));
            put(t, randomMatrix(p + "attn_output.weight", type, c.queryDim(), dim, random, arena));
            put(t, ones(p + "ffn_norm.weight", dim, arena));
            put(t, randomMatrix(p + "ffn_gate.weight", type, dim, c.feedForwardLength(), random, arena));
            put(t, randomMatrix(p + "ffn_up.weight", type, dim, c.feedForwardLength(), random, arena));
            put(t, randomMatrix(p + "ffn_down.weight", type, c.feedForwardLength(), dim, random, arena));
        }
        put(t, ones("output_norm.weight", dim, arena));
        return t;
    }

    private static void put(Map<String, TensorView> tensors, TensorView t) {
        tensors.put(t.name(), t);
    }

    private static TensorView ones(String name, int n, Arena arena) {
        MemorySegment data = arena.allocate(4L * n);
        for (int i = 0; i < n; i++) {
            data.set(BlockBytes.FLOAT_LE, 4L * i, 1f);
        }
        return new TensorView(name, GgmlType.F32, new long[] {n}, data);
    }

    /** Where each block-quantized type keeps its fp16 scales (d, and dmin or m) within a block. */
    static int[] scaleOffsets(GgmlType type) {
        return switch (type) {
            case Q8_0, Q4_0, Q5_0, IQ4_NL, NF4, FP4 -> new int[] {0};
            case Q4_1, Q5_1, Q4_K, Q5_K -> new int[] {0, 2};
            case Q6_K -> new int[] {208};
            default -> throw new IllegalArgumentException("no random blocks for " + type);
        };
    }

    /**
     * Random bytes, then every block's fp16 scales set to a small value: the activations stay
     * finite, and no denormal products slow the arithmetic down.
     */
    private static TensorView randomMatrix(String name, GgmlType type, int inputs, int outputs, SplittableRandom random,
            Arena arena) {
        long elements = (long) inputs * outputs;
        MemorySegment data = arena.allocate(type.byteSize(elements), 64);
        for (long i = 0; i + 8 <= data.byteSize(); i += 8) {
            data.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, i, random.nextLong());
        }
        if (type.isQuantized()) {
            float scale = (float) (0.5 / Math.sqrt(inputs));
            int[] scales = scaleOffsets(type);
            for (long block = 0; block < elements / type.blockSize; block++) {
                for (int offset : scales) {
                    data.set(BlockBytes.SHORT_LE, block * type.bytesPerBlock + offset, Float.floatToFloat16(scale));
                }
            }
        } else if (type == GgmlType.F16 || type == GgmlType.BF16) {
            for (long i = 0; i < elements; i++) {
                float value = (float) (random.nextGaussian() / Math.sqrt(inputs));
                short bits = type == GgmlType.F16 ? Float.floatToFloat16(value)
                        : (short) (Float.floatToIntBits(value) >>> 16);
                data.set(BlockBytes.SHORT_LE, 2 * i, bits);
            }
        } else {
            throw new IllegalArgumentException("the bench builds F16, BF16 or block-quantized models, not " + type);
        }
        return new TensorView(name, type, new long[] {inputs, outputs}, data);
    }
}
