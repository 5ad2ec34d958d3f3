package io.panllm.runtime;

import io.panllm.gguf.GgufFile;
import io.panllm.runtime.backend.Backend;
import io.panllm.runtime.cpu.CpuBackend;
import io.panllm.runtime.cuda.CudaBackend;
import io.panllm.runtime.cuda.GpuMemoryException;
import io.panllm.runtime.cuda.UnsupportedOnGpuException;
import io.panllm.kernels.CudaUnavailableException;
import io.panllm.llama2c.Llama2cCheckpoint;
import io.panllm.runtime.convert.InMemoryModel;
import io.panllm.runtime.convert.Llama2cSource;
import io.panllm.runtime.model.LlamaModel;
import io.panllm.runtime.model.ModelConfig;
import io.panllm.runtime.model.TensorView;
import io.panllm.tensor.GgmlType;
import java.lang.foreign.Arena;
import java.util.Map;
import io.panllm.runtime.tokenizer.Tokenizer;
import io.panllm.runtime.tokenizer.Tokenizers;
import java.nio.file.Path;

/**
 * A model file opened for use: the model on its backend, its tokenizer and what its metadata says
 * about it. Closing it releases the model, the backend and the mapped file, in that order.
 */
public final class LoadedModel implements AutoCloseable {
    private final Path path;
    private final LanguageModel model;
    private final Tokenizer tokenizer;
    private final Backend backend;
    private final AutoCloseable file;
    private final boolean randomWeights;
    private final String chatTemplate;

    private LoadedModel(Path path, LanguageModel model, Tokenizer tokenizer, Backend backend, AutoCloseable file,
                        boolean randomWeights, String chatTemplate) {
        this.path = path;
        this.model = model;
        this.tokenizer = tokenizer;
        this.backend = backend;
        this.file = file;
        this.randomWeights = randomWeights;
        this.chatTemplate = chatTemplate;
    }

    /** Where to run. */
    public enum Device {
        CPU, CUDA, AUTO;

        public static Device parse(String s) {
            return switch (s.toLowerCase(java.util.Locale.ROOT)) {
                case "cpu" -> CPU;
                case "cuda", "gpu" -> CUDA;
                case "auto" -> AUTO;
                default -> throw new IllegalArgumentException("--device must be cpu, cuda or auto, not '" + s + "'");
            };
        }
    }

    /**
     * Opens a GGUF file on the given device.
     *
     * @param threads CPU threads (0: all cores)
     */
    public static LoadedModel open(Path path, Device device, int threads) {
        GgufFile file = GgufFile.open(path);
        Backend backend = null;
        LanguageModel model = null;
        try {
            Tokenizer tokenizer = Tokenizers.fromGguf(file.metadata(), path.toString());
            Placed placed = place(device, threads, b -> LlamaModel.load(file, b));
            backend = placed.backend();
            model = placed.model();
            boolean random = file.metadata().getBoolean("panllm.random_init", false);
            String template = file.metadata().getString("tokenizer.chat_template", null);
            return new LoadedModel(path, model, tokenizer, backend, file, random, template);
        } catch (RuntimeException e) {
            closeQuietly(model);
            closeQuietly(backend);
            file.close();
            throw e;
        }
    }

    /**
     * Runs a llama2.c checkpoint directly: its weights are encoded in memory as a GGUF of it would
     * hold them (Q8_0 matrices for a Q8 export, F32 otherwise).
     *
     * @param tokenizerFile its tokenizer.bin, or null to look beside the checkpoint
     */
    public static LoadedModel openLlama2c(Path path, Path tokenizerFile, Device device, int threads) {
        Llama2cSource source = new Llama2cSource(path, tokenizerFile);
        Arena arena = Arena.ofShared();
        Backend backend = null;
        try {
            Llama2cCheckpoint.Config c = source.checkpoint().config();
            boolean q8 = source.checkpoint().version() == 2;
            Map<String, TensorView> tensors = InMemoryModel.encode(source,
                    (name, shape) -> shape.length > 1 && q8 && shape[0] % GgmlType.Q8_0.blockSize == 0 ? GgmlType.Q8_0 : GgmlType.F32,
                    arena);
            ModelConfig config = ModelConfig.llama(c.dim(), c.layers(), c.hiddenDim(), c.heads(), c.kvHeads(), c.vocabSize(),
                    c.seqLen(), 1e-5f, 10000f);
            Placed placed = place(device, threads, b -> LlamaModel.fromTensors(config, tensors, b));
            backend = placed.backend();
            LanguageModel model = placed.model();
            Tokenizer tokenizer = source.tokenizer();
            return new LoadedModel(path, model, tokenizer, backend, arena, false, null);
        } catch (RuntimeException e) {
            closeQuietly(backend);
            arena.close();
            throw e;
        } finally {
            source.close();
        }
    }

    /** A model on the backend it was loaded onto. */
    private record Placed(Backend backend, LanguageModel model) {
    }

    /**
     * Loads the model onto the device asked for. {@code auto} takes the GPU when there is one and
     * it can run the model (every tensor type has a kernel, the weights fit), else the CPU.
     */
    private static Placed place(Device device, int threads, java.util.function.Function<Backend, LanguageModel> loader) {
        if (device == Device.CPU) {
            return loadOn(cpu(threads), loader);
        }
        Backend gpu;
        try {
            gpu = new CudaBackend();
        } catch (CudaUnavailableException e) {
            if (device == Device.AUTO) {
                return loadOn(cpu(threads), loader);
            }
            throw e;
        }
        try {
            return loadOn(gpu, loader);
        } catch (UnsupportedOnGpuException | GpuMemoryException e) {
            if (device == Device.AUTO) {
                return loadOn(cpu(threads), loader);
            }
            throw e;
        }
    }

    /** Loads onto {@code backend}, closing it if that fails. */
    private static Placed loadOn(Backend backend, java.util.function.Function<Backend, LanguageModel> loader) {
        try {
            return new Placed(backend, loader.apply(backend));
        } catch (RuntimeException e) {
            closeQuietly(backend);
            throw e;
        }
    }

    private static Backend cpu(int threads) {
        return threads > 0 ? new CpuBackend(threads) : new CpuBackend();
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // already failing; the first error is the one to report
            }
        }
    }

    public Path path() {
        return path;
    }

    public LanguageModel model() {
        return model;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** True for files written by {@code convert --random-init}: accuracy figures mean nothing. */
    public boolean randomWeights() {
        return randomWeights;
    }

    /** True where the model runs on the GPU (CUDA backend). */
    public boolean onGpu() {
        return backend instanceof CudaBackend;
    }

    /**
     * Peak device memory held by panllm (weights, KV caches, activations) since the process
     * started or {@link io.panllm.kernels.DeviceMemoryUse#resetPeak}; -1 for a model on the CPU.
     */
    public long peakGpuBytes() {
        return onGpu() ? io.panllm.kernels.DeviceMemoryUse.peakBytes() : -1;
    }

    /** The device's copy bandwidth in bytes per second ({@link CudaBackend#copyBandwidth}); NaN on the CPU. */
    public double copyBandwidth() {
        return backend instanceof CudaBackend cuda ? cuda.copyBandwidth() : Double.NaN;
    }

    /** The Jinja chat template from the file's metadata, or null. */
    public String chatTemplate() {
        return chatTemplate;
    }

    @Override
    public void close() {
        closeQuietly(model);
        closeQuietly(backend);
        closeQuietly(file);
    }
}
