package io.panllm.cli;

import io.panllm.runtime.LoadedModel;
import java.nio.file.Path;
import java.util.List;

/** Opens any model file the runtime can run, by its detected kind. */
final class ModelLoading {
    private ModelLoading() {
    }

    static LoadedModel open(Path path, LoadedModel.Device device, int threads) {
        return switch (ModelFiles.detect(path)) {
            case GGUF -> LoadedModel.open(path, device, threads);
            case LLAMA2C -> LoadedModel.openLlama2c(path, null, device, threads);
            case SAFETENSORS, HF_DIRECTORY -> throw notRunnable(path);
        };
    }

    /** A Hugging Face checkpoint: say how to convert it, or what it lacks for that. */
    private static BadInputException notRunnable(Path path) {
        List<String> missing = ModelFiles.missingCheckpointFiles(path);
        if (!missing.isEmpty()) {
            return new BadInputException(path + ": safetensors without " + String.join(" and ", missing) + " in "
                    + ModelFiles.checkpointDirectory(path) + "; panllm runs GGUF or llama2.c files, and converts a Hugging Face "
                    + "checkpoint (config.json, tokenizer.json and model*.safetensors in one folder) with panllm convert");
        }
        return new BadInputException(path + ": a Hugging Face checkpoint; convert it to GGUF first: panllm convert "
                + path + " -o model.gguf");
    }
}
