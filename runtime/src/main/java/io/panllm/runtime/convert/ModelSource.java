package io.panllm.runtime.convert;

import io.panllm.gguf.GgufValue;
import java.util.List;
import java.util.Map;

/**
 * A model to be written as GGUF: its metadata (architecture hyper-parameters, tokenizer, chat
 * template) under llama.cpp's keys, and its tensors under llama.cpp's names.
 */
public interface ModelSource extends AutoCloseable {

    /** GGUF metadata to write, in order; {@code general.file_type} and quantization keys are set by the converter. */
    Map<String, GgufValue> metadata();

    List<SourceTensor> tensors();

    /** What this is, for progress lines: "HF checkpoint /x (bf16)". */
    String description();

    @Override
    default void close() {
    }
}
