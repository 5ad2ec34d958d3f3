package io.panllm.runtime.convert;

import io.panllm.gguf.GgufFile;
import io.panllm.gguf.GgufTensorInfo;
import io.panllm.gguf.GgufValue;
import io.panllm.tensor.BlockCodec;
import io.panllm.tensor.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A GGUF file as a conversion source (re-quantizing GGUF to GGUF). */
public final class GgufSource implements ModelSource {
    private final GgufFile file;
    private final Map<String, GgufValue> metadata;
    private final List<SourceTensor> tensors;

    public GgufSource(Path path) {
        file = GgufFile.open(path);
        metadata = new LinkedHashMap<>(file.metadata().asMap());
        // Keys the converter sets for the new file.
        metadata.remove("general.file_type");
        metadata.remove("general.quantization_version");
        metadata.remove("panllm.extension_types");
        metadata.remove("general.alignment");
        tensors = file.tensors().stream().map(this::source).toList();
    }

    private SourceTensor source(GgufTensorInfo info) {
        MemorySegment data = file.tensorData(info);
        GgmlType type = info.type();
        long rowLength = info.rowLength();
        long rowBytes = type.byteSize(rowLength);
        return new SourceTensor(info.name(), info.shape(), type, data, (first, count, dst) -> {
            BlockCodec codec = type.codec();
            codec.dequantize(data.asSlice(first * rowBytes, count * rowBytes), dst, 0, Math.toIntExact(count * rowLength));
        });
    }

    public GgufFile file() {
        return file;
    }

    @Override
    public Map<String, GgufValue> metadata() {
        return metadata;
    }

    @Override
    public List<SourceTensor> tensors() {
        return tensors;
    }

    @Override
    public String description() {
        return "GGUF " + file.path();
    }

    @Override
    public void close() {
        file.close();
    }
}
