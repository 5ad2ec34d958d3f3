package io.panllm.cli;

import io.panllm.runtime.LoadedModel;
import java.nio.file.Path;

/** Opens any model file the runtime can run, by its detected kind. */
final class ModelLoading {
    private ModelLoading() {
    }

    static LoadedModel open(Path path, LoadedModel.Device device, int threads) {
        return switch (ModelFiles.detect(path)) {
            case GGUF -> LoadedModel.open(path, device, threads);
            case LLAMA2C -> LoadedModel.openLlama2c(path, null, device, threads);
            case SAFETENSORS, HF_DIRECTORY -> throw new BadInputException(path
                    + ": a Hugging Face checkpoint; convert it to GGUF first: panllm convert " + path + " -o model.gguf");
        };
    }
}
