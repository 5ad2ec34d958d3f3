package io.panllm.cli;

import io.panllm.gguf.GgufFile;
import io.panllm.gguf.GgufMetadata;
import io.panllm.gguf.GgufTensorInfo;
import io.panllm.tensor.GgmlType;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code panllm info FILE}: metadata and tensor table of a model file. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Print a model file's metadata and tensor table (name, type, shape, bytes).%n"
                + "Reads GGUF files, safetensors (a file or a checkpoint directory) and llama2.c checkpoints.")
final class InfoCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "FILE", description = "model file or checkpoint directory")
    Path file;

    @Option(names = "--no-tensors", description = "print the metadata only")
    boolean noTensors;

    @Option(names = "--full-arrays", description = "print metadata arrays in full instead of a summary")
    boolean fullArrays;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        ModelFiles.Kind kind = ModelFiles.detect(file);
        switch (kind) {
            case GGUF -> printGguf(out);
            default -> throw new IllegalStateException(file + ": " + kind.description + " files are not readable by info yet");
        }
        out.flush();
        return ExitCodes.OK;
    }

    private void printGguf(PrintWriter out) {
        try (GgufFile f = GgufFile.open(file)) {
            out.printf("%s: GGUF v%d, %d metadata keys, %d tensors, alignment %d, %s%n", file, f.version(),
                    f.metadata().keys().size(), f.tensors().size(), f.alignment(), Table.bytes(f.fileSize()));
            GgufMetadata m = f.metadata();
            Table meta = new Table("key", "type", "value");
            for (String key : m.keys()) {
                var v = m.get(key);
                String shown = fullArrays && v.value() instanceof io.panllm.gguf.GgufArray a ? String.valueOf(a.values() instanceof java.util.List<?> l ? l : a) : v.toString();
                meta.row(key, v.type().name().toLowerCase(), Table.abbreviate(shown, fullArrays ? Integer.MAX_VALUE : 100));
            }
            meta.print(out);
            if (noTensors) {
                return;
            }
            out.println();
            Table t = new Table("tensor", "type", "shape", "bytes");
            Map<GgmlType, long[]> perType = new EnumMap<>(GgmlType.class);
            long params = 0;
            long bytes = 0;
            for (GgufTensorInfo info : f.tensors()) {
                t.row(info.name(), info.type().name(), Table.shape(info.shape()), Table.bytes(info.byteSize()));
                long[] acc = perType.computeIfAbsent(info.type(), k -> new long[2]);
                acc[0] += info.elementCount();
                acc[1] += info.byteSize();
                params += info.elementCount();
                bytes += info.byteSize();
            }
            t.print(out);
            out.printf("%n%,d parameters in %s (%.2f bits per weight)%n", params, Table.bytes(bytes), params == 0 ? 0 : 8.0 * bytes / params);
            perType.forEach((type, acc) -> out.printf("  %-8s %,14d parameters  %s%n", type, acc[0], Table.bytes(acc[1])));
        }
    }
}
