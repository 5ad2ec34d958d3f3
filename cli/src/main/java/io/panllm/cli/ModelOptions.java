package io.panllm.cli;

import io.panllm.runtime.LoadedModel;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The options every command that runs a model shares (llama.cpp's names where they exist). */
final class ModelOptions {

    @Option(names = {"-m", "--model"}, paramLabel = "FILE",
            description = "model: GGUF or llama2.c checkpoint (default: the embedded stories260K)")
    Path model;

    @Option(names = "--device", paramLabel = "DEV", defaultValue = "auto",
            description = "cpu, cuda or auto (cuda when a GPU is usable, else cpu; default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = {"-ngl", "--n-gpu-layers", "--gpu-layers"}, paramLabel = "N",
            description = "llama.cpp compatibility: 0 means --device cpu, any other value --device cuda")
    Integer gpuLayers;

    @Mixin
    ThreadsOption threads;

    LoadedModel.Device device() {
        if (gpuLayers != null) {
            return gpuLayers == 0 ? LoadedModel.Device.CPU : LoadedModel.Device.CUDA;
        }
        return LoadedModel.Device.parse(device);
    }

    /** The model to load: -m, or the stories260K model shipped in the repository. */
    Path modelPath() {
        if (model != null) {
            return model;
        }
        Path home = Path.of(System.getProperty("panllm.home", "."));
        Path embedded = home.resolve("models/stories260K/stories260K_q80.bin");
        if (!Files.exists(embedded)) {
            throw new BadInputException("no -m FILE given and the embedded model is missing (" + embedded + ")");
        }
        return embedded;
    }

    LoadedModel open() {
        Path path = modelPath();
        return ModelLoading.open(path, device(), threads.threads);
    }
}
