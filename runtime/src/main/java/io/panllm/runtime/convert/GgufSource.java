package io.panllm.runtime.convert;

import io.panllm.gguf.GgufFile;
import io.panllm.gguf.GgufTensorInfo;
import io.panllm.gguf.GgufValue;
import io.panllm.tensor.BlockCodec;
import io.panllm.runtime.model.ModelException;
import io.panllm.runtime.model.ModelWeights;
import io.panllm.tensor.GgmlType;
import io.panllm.tensor.Int8RowWise;
import java.util.HashSet;
import java.util.Set;
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
        // INT8 (LLM.int8) matrices are read with their row absmax applied; the converter writes
        // the companion tensors again where the new file is INT8.
        Map<String, GgufTensorInfo> byName = new LinkedHashMap<>();
        file.tensors().forEach(t -> byName.put(t.name(), t));
        Set<String> rowScales = new HashSet<>();
        for (GgufTensorInfo t : file.tensors()) {
            if (t.type() == GgmlType.I8 && t.shape().length >= 2 && byName.containsKey(ModelWeights.rowScalesName(t.name()))) {
                rowScales.add(ModelWeights.rowScalesName(t.name()));
            }
        }
        tensors = file.tensors().stream().filter(t -> !rowScales.contains(t.name()))
                .map(t -> source(t, rowScales.contains(ModelWeights.rowScalesName(t.name()))
                        ? byName.get(ModelWeights.rowScalesName(t.name())) : null))
                .toList();
    }

    private SourceTensor source(GgufTensorInfo info, GgufTensorInfo rowAbsMax) {
        MemorySegment data = file.tensorData(info);
        GgmlType type = info.type();
        long rowLength = info.rowLength();
        long rowBytes = type.byteSize(rowLength);
        if (rowAbsMax != null) {
            try {
                ModelWeights.checkRowScales(info.name(), info.shape(), rowAbsMax.type(), rowAbsMax.shape(), file.path().toString());
            } catch (ModelException e) {
                throw new ConvertException(e.getMessage(), e);
            }
        }
        float[] scb = rowAbsMax == null ? null : GgmlType.F32.codec().dequantize(file.tensorData(rowAbsMax),
                Math.toIntExact(rowAbsMax.elementCount()));
        return new SourceTensor(info.name(), info.shape(), type, data, (first, count, dst) -> {
            BlockCodec codec = type.codec();
            int n = Math.toIntExact(count * rowLength);
            codec.dequantize(data.asSlice(first * rowBytes, count * rowBytes), dst, 0, n);
            if (scb != null) {
                for (int r = 0; r < count; r++) {
                    float scale = scb[(int) first + r] * Int8RowWise.INVERSE_127;
                    for (int c = 0; c < rowLength; c++) {
                        dst[(int) (r * rowLength + c)] *= scale;
                    }
                }
            }
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
