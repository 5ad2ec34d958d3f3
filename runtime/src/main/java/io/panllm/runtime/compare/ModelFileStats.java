package io.panllm.runtime.compare;

import io.panllm.gguf.GgufFile;
import io.panllm.gguf.GgufTensorInfo;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Size figures of a GGUF file: bits per weight over all tensors, and over the linear layers only
 * (the figure bitsandbytes-style studies quote, since they quantize nn.Linear and leave the
 * embedding and output head alone).
 *
 * @param fileBytes          the file's size (metadata and padding included)
 * @param parameters         all weights
 * @param tensorBytes        bytes of all tensor data
 * @param linearParameters   weights of the layers' projection matrices
 * @param linearBytes        their bytes
 * @param parametersPerType  weights stored in each type, by type name
 */
record ModelFileStats(long fileBytes, long parameters, long tensorBytes, long linearParameters, long linearBytes,
                      Map<String, Long> parametersPerType) {

    /** blk.N.attn_q/k/v/output.weight and blk.N.ffn_gate/up/down.weight: the per-layer matrices. */
    private static final Pattern LINEAR = Pattern.compile("^blk\\.\\d+\\.(attn_(q|k|v|output)|ffn_(gate|up|down))\\.weight$");

    static ModelFileStats of(Path gguf) {
        try (GgufFile file = GgufFile.open(gguf)) {
            long parameters = 0;
            long bytes = 0;
            long linearParameters = 0;
            long linearBytes = 0;
            Map<String, Long> perType = new TreeMap<>();
            for (GgufTensorInfo t : file.tensors()) {
                bytes += t.byteSize();
                if (isRowScales(t.name())) {
                    // An INT8 matrix's row absmax: part of its storage, not weights of their own.
                    linearBytes += isLinear(t.name().replaceFirst("\\.scb$", ".weight")) ? t.byteSize() : 0;
                    continue;
                }
                parameters += t.elementCount();
                perType.merge(t.type().name(), t.elementCount(), Long::sum);
                if (isLinear(t.name())) {
                    linearParameters += t.elementCount();
                    linearBytes += t.byteSize();
                }
            }
            return new ModelFileStats(file.fileSize(), parameters, bytes, linearParameters, linearBytes, perType);
        }
    }

    static boolean isRowScales(String tensorName) {
        return tensorName.endsWith(io.panllm.runtime.model.ModelWeights.ROW_SCALES_SUFFIX);
    }

    static boolean isLinear(String tensorName) {
        return LINEAR.matcher(tensorName).matches();
    }

    double bitsPerWeight() {
        return parameters == 0 ? 0 : 8.0 * tensorBytes / parameters;
    }

    /** NaN when the model has no such layers (a name scheme this does not know). */
    double linearBitsPerWeight() {
        return linearParameters == 0 ? Double.NaN : 8.0 * linearBytes / linearParameters;
    }
}
