package io.panllm.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Tells what kind of model file a path is, by its content (magic bytes), not its name. */
final class ModelFiles {
    private ModelFiles() {
    }

    enum Kind {
        GGUF("GGUF"), SAFETENSORS("safetensors"), HF_DIRECTORY("Hugging Face checkpoint"), LLAMA2C("llama2.c");

        final String description;

        Kind(String description) {
            this.description = description;
        }
    }

    /** The folder of a Hugging Face checkpoint: the path itself, or the folder of a .safetensors file. */
    static Path checkpointDirectory(Path path) {
        return Files.isDirectory(path) ? path : path.toAbsolutePath().getParent();
    }

    /** The files a Hugging Face checkpoint needs beside its safetensors that {@code path}'s folder lacks. */
    static List<String> missingCheckpointFiles(Path path) {
        Path dir = checkpointDirectory(path);
        return Stream.of("config.json", "tokenizer.json").filter(name -> !Files.isRegularFile(dir.resolve(name))).toList();
    }

    static Kind detect(Path path) {
        if (Files.isDirectory(path)) {
            if (Files.exists(path.resolve("config.json")) || Files.exists(path.resolve("model.safetensors"))
                    || Files.exists(path.resolve("model.safetensors.index.json"))) {
                return Kind.HF_DIRECTORY;
            }
            throw new BadInputException(path + ": a directory, but not a checkpoint (no config.json or model*.safetensors)");
        }
        byte[] head = new byte[8];
        int n;
        try (InputStream in = Files.newInputStream(path)) {
            n = in.readNBytes(head, 0, 8);
        } catch (NoSuchFileException e) {
            throw new BadInputException(path + ": no such file");
        } catch (IOException e) {
            throw new BadInputException(path + ": cannot read: " + e.getMessage());
        }
        if (n >= 4 && head[0] == 'G' && head[1] == 'G' && head[2] == 'U' && head[3] == 'F') {
            return Kind.GGUF;
        }
        if (n >= 4 && head[0] == '4' && head[1] == '2' && head[2] == 'k' && head[3] == 'a') {
            return Kind.LLAMA2C; // "ak42" stored as a little-endian int
        }
        if (path.getFileName().toString().endsWith(".safetensors")) {
            return Kind.SAFETENSORS;
        }
        if (path.getFileName().toString().endsWith(".bin") && n >= 8) {
            return Kind.LLAMA2C; // legacy llama2.c: seven int32 with no magic
        }
        throw new BadInputException(path + ": not a model file panllm knows (GGUF, safetensors, llama2.c)");
    }
}
