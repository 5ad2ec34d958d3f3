package io.panllm.runtime.convert;

import io.panllm.runtime.model.TensorView;
import io.panllm.tensor.GgmlType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * Encodes a model source's tensors into memory instead of a file, so a checkpoint can be run
 * directly without writing a GGUF first (the same encoding {@code convert} writes).
 */
public final class InMemoryModel {
    private InMemoryModel() {
    }

    /**
     * @param typeFor chooses each tensor's type from its name and shape
     * @param arena   owns the encoded tensors; they live as long as it does
     */
    public static Map<String, TensorView> encode(ModelSource source, BiFunction<String, long[], GgmlType> typeFor, Arena arena) {
        Map<String, TensorView> out = new LinkedHashMap<>();
        for (SourceTensor t : source.tensors()) {
            GgmlType type = typeFor.apply(t.name(), t.shape());
            try {
                out.put(t.name(), new TensorView(t.name(), type, t.shape(), Converter.encode(t, type, arena)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }
}
