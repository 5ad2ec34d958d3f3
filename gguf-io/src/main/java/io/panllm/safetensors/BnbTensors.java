package io.panllm.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.panllm.tensor.Bnb4bit;
import io.panllm.tensor.Int8RowWise;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Linear weights of checkpoints saved by transformers + bitsandbytes: recognises the layout of one
 * weight by its base name ({@code model.layers.0.self_attn.q_proj}), reads its shape and decodes
 * rows to float32 (the numbers through {@link Bnb4bit} and {@link Int8RowWise}); and writes the
 * same layout.
 *
 * <p>The key sets, for a base name X:
 *
 * <pre>
 * 4-bit (NF4 / FP4), as Linear4bit / Params4bit save them (QuantState.as_dict(packed=True)):
 *   X.weight                                   U8  [(n + 1) / 2, 1]  codes, first element in the high nibble
 *   X.weight.absmax                            F32 [blocks]          one per blocksize elements
 *                                   (with double quantization: U8 [blocks], dynamic-map codes)
 *   X.weight.quant_map                         F32 [16]              the nf4 / fp4 table
 *   X.weight.nested_absmax                     F32 [ceil(blocks / 256)]   (double quantization only)
 *   X.weight.nested_quant_map                  F32 [256]                  (double quantization only)
 *   X.weight.quant_state.bitsandbytes__nf4     U8  [len]   UTF-8 JSON (suffix __fp4 for FP4):
 *       {"quant_type": "nf4", "blocksize": 64, "dtype": "bfloat16", "shape": [out, in],
 *        "nested_blocksize": 256, "nested_dtype": "float32", "nested_offset": 0.0123}
 *       (the nested_* keys with double quantization only; dtype is the compute dtype)
 * LLM.int8 (Linear8bitLt):
 *   X.weight         I8  [out, in]
 *   X.SCB            F32 [out]     row absmax: w = q * SCB / 127
 *   X.weight_format  U8  []        0 = "row" (written; optional when reading)
 * plain: X.weight in F32 / F16 / BF16 / F64.
 * </pre>
 *
 * Blocks of 4-bit weights run over the flattened tensor (they may straddle rows). A custom
 * quant_map (not bitsandbytes' nf4 / fp4 table) is refused, since the codecs decode with the
 * standard tables. Any inconsistency between these tensors is a {@link SafetensorsException}
 * naming the weight.
 */
public final class BnbTensors {
    private BnbTensors() {
    }

    /** How a Linear weight is stored. */
    public enum Kind {
        PLAIN, NF4, FP4, INT8
    }

    /** The quant state JSON is a few hundred bytes; anything large is not one. */
    private static final long MAX_QUANT_STATE_BYTES = 1 << 16;
    private static final String QUANT_STATE = ".weight.quant_state.bitsandbytes__";

    /** Which layout holds {@code base}'s weight. */
    public static Kind kind(SafetensorsCheckpoint checkpoint, String base) {
        if (checkpoint.has(base + QUANT_STATE + "nf4")) {
            return Kind.NF4;
        }
        if (checkpoint.has(base + QUANT_STATE + "fp4")) {
            return Kind.FP4;
        }
        if (checkpoint.has(base + ".SCB")) {
            return Kind.INT8;
        }
        checkpoint.require(base + ".weight");
        return Kind.PLAIN;
    }

    /** Opens {@code base}'s weight, checking every tensor of its layout. */
    public static Weight weight(SafetensorsCheckpoint checkpoint, String base) {
        return switch (kind(checkpoint, base)) {
            case NF4 -> fourBit(checkpoint, base, Bnb4bit.QuantType.NF4);
            case FP4 -> fourBit(checkpoint, base, Bnb4bit.QuantType.FP4);
            case INT8 -> int8(checkpoint, base);
            case PLAIN -> new Plain(base, checkpoint.require(base + ".weight"));
        };
    }

    /** One Linear weight, decodable row by row. Rows are the last dimension of {@link #shape()}. */
    public sealed interface Weight permits Plain, FourBit, Int8 {
        String base();

        Kind kind();

        /** The logical shape in PyTorch order ([out_features, in_features] for a Linear). */
        long[] shape();

        default long rowLength() {
            long[] shape = shape();
            return shape.length == 0 ? 1 : shape[shape.length - 1];
        }

        default long rows() {
            long rowLength = rowLength();
            return rowLength == 0 ? 0 : SafetensorsTensor.elementCount(shape()) / rowLength;
        }

        /** Rows [first, first + count) as float32 into dst from index 0. */
        void readRows(long first, int count, float[] dst);

        /** The whole weight as float32. */
        default float[] toFloats() {
            int rows = Math.toIntExact(rows());
            float[] out = new float[Math.toIntExact(Math.multiplyExact((long) rows, rowLength()))];
            readRows(0, rows, out);
            return out;
        }
    }

    /** An unquantized weight. */
    public record Plain(String base, SafetensorsTensor tensor) implements Weight {
        @Override
        public Kind kind() {
            return Kind.PLAIN;
        }

        @Override
        public long[] shape() {
            return tensor.shape();
        }

        @Override
        public void readRows(long first, int count, float[] dst) {
            Objects.checkFromIndexSize(first, count, rows());
            tensor.readRows(first, count, dst);
        }
    }

    /**
     * A bitsandbytes 4-bit weight. {@code absmax} is already decoded (double quantization undone),
     * one value per block; {@code computeDtype} is the quant state's dtype ("bfloat16", ...).
     */
    public record FourBit(String base, Bnb4bit.QuantType type, long[] shape, int blockSize, MemorySegment packedCodes,
                          float[] absmax, String computeDtype, boolean doubleQuantized) implements Weight {
        @Override
        public Kind kind() {
            return type == Bnb4bit.QuantType.NF4 ? Kind.NF4 : Kind.FP4;
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        @Override
        public void readRows(long first, int count, float[] dst) {
            Objects.checkFromIndexSize(first, count, rows());
            long start = first * rowLength();
            int n = Math.toIntExact(count * rowLength());
            long alignedStart = start - start % blockSize; // even: block sizes are powers of two >= 32
            int lead = (int) (start - alignedStart);
            int firstBlock = (int) (alignedStart / blockSize);
            float[] blockAbsmax = Arrays.copyOfRange(absmax, firstBlock, Bnb4bit.blockCount(start + n, blockSize));
            MemorySegment codes = packedCodes.asSlice(alignedStart / 2, Bnb4bit.packedBytes(lead + n));
            if (lead == 0) {
                Bnb4bit.dequantize(type, codes, blockAbsmax, blockSize, dst, 0, n);
            } else { // the rows start inside a block: decode from its start, keep the tail
                float[] decoded = Bnb4bit.dequantize(type, codes, blockAbsmax, blockSize, lead + n);
                System.arraycopy(decoded, lead, dst, 0, n);
            }
        }
    }

    /** An LLM.int8 weight: int8 rows and their SCB (row absmax). */
    public record Int8(String base, SafetensorsTensor codes, float[] scb) implements Weight {
        @Override
        public Kind kind() {
            return Kind.INT8;
        }

        @Override
        public long[] shape() {
            return codes.shape();
        }

        @Override
        public void readRows(long first, int count, float[] dst) {
            Objects.checkFromIndexSize(first, count, rows());
            int cols = Math.toIntExact(rowLength());
            for (int i = 0; i < count; i++) {
                long row = first + i;
                Int8RowWise.dequantizeRow(codes.data().asSlice(row * cols, cols), scb[(int) row], dst, i * cols);
            }
        }
    }

    // ---------------------------------------------------------------- reading

    private static FourBit fourBit(SafetensorsCheckpoint checkpoint, String base, Bnb4bit.QuantType type) {
        String what = checkpoint.path() + ": 4-bit weight '" + base + "'";
        SafetensorsTensor stateTensor = checkpoint.require(base + QUANT_STATE + type.name().toLowerCase());
        QuantState state = QuantState.parse(stateTensor, what);
        if (state.type != type) {
            throw new SafetensorsException(what + ": quant state says " + state.type + " under a " + type + " key");
        }
        long n = SafetensorsTensor.elementCount(state.shape);
        int blocks = state.blocks(n, what);

        SafetensorsTensor weight = require(checkpoint, base + ".weight", SafetensorsDtype.U8, Bnb4bit.packedBytes(n), what);
        float[] quantMap = require(checkpoint, base + ".weight.quant_map", SafetensorsDtype.F32, 16, what).toFloats();
        float[] table = type.table();
        for (int i = 0; i < 16; i++) {
            if (Math.abs(quantMap[i] - table[i]) > 1e-6f) {
                throw new SafetensorsException(what + ": quant_map[" + i + "] = " + quantMap[i] + " is not bitsandbytes' "
                        + type + " value " + table[i] + " (custom maps are not supported)");
            }
        }
        float[] absmax;
        boolean nested = checkpoint.has(base + ".weight.nested_absmax");
        if (nested) {
            if (state.nestedBlockSize <= 0) {
                throw new SafetensorsException(what + ": nested_absmax present but the quant state has no nested_blocksize");
            }
            SafetensorsTensor codes = require(checkpoint, base + ".weight.absmax", SafetensorsDtype.U8, blocks, what);
            long nestedBlocks = (blocks + (long) state.nestedBlockSize - 1) / state.nestedBlockSize;
            float[] nestedAbsmax = require(checkpoint, base + ".weight.nested_absmax", SafetensorsDtype.F32, nestedBlocks, what)
                    .toFloats();
            float[] nestedMap = require(checkpoint, base + ".weight.nested_quant_map", SafetensorsDtype.F32, 256, what)
                    .toFloats();
            absmax = Bnb4bit.dequantizeAbsmax(codes.data(), nestedAbsmax, nestedMap, state.nestedBlockSize,
                    state.nestedOffset, blocks);
        } else {
            absmax = require(checkpoint, base + ".weight.absmax", SafetensorsDtype.F32, blocks, what).toFloats();
        }
        return new FourBit(base, type, state.shape, state.blockSize, weight.data(), absmax, state.dtype, nested);
    }

    private static Int8 int8(SafetensorsCheckpoint checkpoint, String base) {
        String what = checkpoint.path() + ": int8 weight '" + base + "'";
        SafetensorsTensor codes = checkpoint.require(base + ".weight");
        if (codes.dtype() != SafetensorsDtype.I8 || codes.shape().length != 2) {
            throw new SafetensorsException(what + ": expected an I8 matrix, got " + codes);
        }
        long rows = codes.shape()[0];
        float[] scb = require(checkpoint, base + ".SCB", SafetensorsDtype.F32, rows, what).toFloats();
        SafetensorsTensor format = checkpoint.tensor(base + ".weight_format");
        if (format != null && (format.elementCount() != 1 || format.toFloats()[0] != 0)) {
            throw new SafetensorsException(what + ": weight_format " + format + " is not row-major (0)");
        }
        return new Int8(base, codes, scb);
    }

    private static SafetensorsTensor require(SafetensorsCheckpoint checkpoint, String name, SafetensorsDtype dtype,
            long elements, String what) {
        SafetensorsTensor t = checkpoint.tensor(name);
        if (t == null) {
            throw new SafetensorsException(what + ": tensor '" + name + "' is missing");
        }
        if (t.dtype() != dtype || t.elementCount() != elements) {
            throw new SafetensorsException(what + ": tensor '" + name + "' is " + t + ", expected " + elements + " "
                    + dtype + " elements");
        }
        return t;
    }

    /** The JSON of {@code X.weight.quant_state.bitsandbytes__nf4|fp4}. */
    record QuantState(Bnb4bit.QuantType type, int blockSize, String dtype, long[] shape, int nestedBlockSize,
                      float nestedOffset, String nestedDtype) {

        static QuantState parse(SafetensorsTensor tensor, String what) {
            if (tensor.dtype() != SafetensorsDtype.U8 || tensor.data().byteSize() > MAX_QUANT_STATE_BYTES) {
                throw new SafetensorsException(what + ": quant state " + tensor + " is not a small U8 tensor of JSON");
            }
            JsonNode json;
            try {
                json = SafetensorsHeader.JSON.readTree(tensor.toByteArray());
            } catch (JsonProcessingException e) {
                throw new SafetensorsException(what + ": quant state is not JSON: " + e.getOriginalMessage());
            } catch (IOException e) {
                throw new SafetensorsException(what + ": quant state unreadable: " + e.getMessage(), e);
            }
            if (json == null || !json.isObject()) {
                throw new SafetensorsException(what + ": quant state is not a JSON object");
            }
            Bnb4bit.QuantType type;
            try {
                type = Bnb4bit.QuantType.fromName(text(json, "quant_type", what));
            } catch (IllegalArgumentException e) {
                throw new SafetensorsException(what + ": " + e.getMessage());
            }
            int blockSize = positiveInt(json, "blocksize", what);
            if (blockSize < 32 || blockSize > 4096 || Integer.bitCount(blockSize) != 1) {
                throw new SafetensorsException(what + ": blocksize " + blockSize + " is not a power of two from 32 to 4096");
            }
            JsonNode shapeNode = json.get("shape");
            if (shapeNode == null || !shapeNode.isArray() || shapeNode.isEmpty() || shapeNode.size() > 8) {
                throw new SafetensorsException(what + ": quant state shape missing or not a list of dimensions");
            }
            long[] shape = new long[shapeNode.size()];
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = shapeNode.get(i);
                if (!d.isIntegralNumber() || !d.canConvertToInt() || d.intValue() <= 0) {
                    throw new SafetensorsException(what + ": quant state shape " + shapeNode + " has a bad dimension");
                }
                shape[i] = d.intValue();
            }
            try {
                SafetensorsTensor.elementCount(shape);
            } catch (ArithmeticException e) {
                throw new SafetensorsException(what + ": quant state shape " + shapeNode + " overflows");
            }
            int nestedBlockSize = json.has("nested_blocksize") ? positiveInt(json, "nested_blocksize", what) : 0;
            float offset = 0;
            if (json.has("nested_offset")) {
                JsonNode o = json.get("nested_offset");
                if (!o.isNumber() || !Double.isFinite(o.doubleValue())) {
                    throw new SafetensorsException(what + ": nested_offset " + o + " is not a finite number");
                }
                offset = (float) o.doubleValue();
            }
            return new QuantState(type, blockSize, text(json, "dtype", what), shape, nestedBlockSize, offset,
                    json.has("nested_dtype") ? text(json, "nested_dtype", what) : null);
        }

        int blocks(long n, String what) {
            long blocks = (n + blockSize - 1) / blockSize;
            if (blocks > Integer.MAX_VALUE - 8) {
                throw new SafetensorsException(what + ": " + n + " elements are too many");
            }
            return (int) blocks;
        }

        /** The JSON bitsandbytes writes: its keys in its order, json.dumps separators. */
        byte[] toJson() {
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("quant_type", type.name().toLowerCase());
            fields.put("blocksize", blockSize);
            fields.put("dtype", dtype);
            fields.put("shape", shape);
            if (nestedBlockSize > 0) {
                fields.put("nested_blocksize", nestedBlockSize);
                fields.put("nested_dtype", nestedDtype);
                fields.put("nested_offset", (double) nestedOffset);
            }
            try {
                String compact = SafetensorsHeader.JSON.writeValueAsString(fields);
                return pythonSeparators(compact).getBytes(StandardCharsets.UTF_8);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }

        /** json.dumps puts a space after ',' and ':'; the strings here (names of types) hold neither. */
        private static String pythonSeparators(String compact) {
            return compact.replace(",", ", ").replace(":", ": ");
        }

        private static String text(JsonNode json, String key, String what) {
            JsonNode v = json.get(key);
            if (v == null || !v.isTextual()) {
                throw new SafetensorsException(what + ": quant state '" + key + "' missing or not a string");
            }
            return v.textValue();
        }

        private static int positiveInt(JsonNode json, String key, String what) {
            JsonNode v = json.get(key);
            if (v == null || !v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() <= 0) {
                throw new SafetensorsException(what + ": quant state '" + key + "' missing or not a positive integer");
            }
            return v.intValue();
        }
    }

    // ---------------------------------------------------------------- writing

    /** The float32 values of one weight, row-major; called more than once, must give the same values. */
    @FunctionalInterface
    public interface FloatSource {
        float[] values() throws IOException;
    }

    /**
     * Declares the tensors of one bitsandbytes 4-bit weight (the key set above) on {@code writer}.
     * The source is read now, to compute the absmax values (kept: 4 bytes per block, 1 with double
     * quantization) and the quant state, and once more when the writer writes the codes; so only
     * one weight's floats are on the heap at a time.
     *
     * @param shape PyTorch order, [out_features, in_features]
     * @param computeDtype the "dtype" of the quant state: "bfloat16", "float16" or "float32"
     */
    public static void add4bit(SafetensorsWriter writer, String base, Bnb4bit.QuantType type, long[] shape, int blockSize,
            boolean doubleQuant, String computeDtype, FloatSource source) throws IOException {
        long count = SafetensorsTensor.elementCount(shape);
        int n = Math.toIntExact(count);
        float[] absmax = Bnb4bit.quantize(type, values(source, n, base), 0, n, blockSize).absmax();
        int blocks = absmax.length;
        Bnb4bit.NestedAbsmax nested = doubleQuant ? Bnb4bit.quantizeAbsmax(absmax) : null;
        QuantState state = new QuantState(type, blockSize, computeDtype, shape.clone(),
                nested == null ? 0 : nested.nestedBlockSize(), nested == null ? 0 : nested.offset(),
                nested == null ? null : "float32");

        writer.add(base + ".weight", SafetensorsDtype.U8, new long[] {Bnb4bit.packedBytes(n), 1}, arena -> {
            MemorySegment codes = arena.allocate(Bnb4bit.packedBytes(n));
            Bnb4bit.quantize(type, values(source, n, base), 0, n, blockSize, codes, new float[blocks]);
            return codes;
        });
        if (nested == null) {
            writer.add(base + ".weight.absmax", SafetensorsDtype.F32, new long[] {blocks}, SafetensorsWriter.floats(absmax));
        } else {
            writer.add(base + ".weight.absmax", SafetensorsDtype.U8, new long[] {blocks}, SafetensorsWriter.bytes(nested.codes()));
        }
        writer.add(base + ".weight.quant_map", SafetensorsDtype.F32, new long[] {16}, SafetensorsWriter.floats(type.table()));
        if (nested != null) {
            writer.add(base + ".weight.nested_absmax", SafetensorsDtype.F32, new long[] {nested.nestedAbsmax().length},
                    SafetensorsWriter.floats(nested.nestedAbsmax()));
            writer.add(base + ".weight.nested_quant_map", SafetensorsDtype.F32, new long[] {256},
                    SafetensorsWriter.floats(nested.nestedQuantMap()));
        }
        byte[] json = state.toJson();
        writer.add(base + QUANT_STATE + type.name().toLowerCase(), SafetensorsDtype.U8, new long[] {json.length},
                SafetensorsWriter.bytes(json));
    }

    /**
     * Declares the tensors of one LLM.int8 weight ({@code X.weight} I8, {@code X.SCB} F32,
     * {@code X.weight_format} U8 scalar 0). As {@link #add4bit}, the source is read now (for SCB)
     * and again when the codes are written.
     */
    public static void addInt8(SafetensorsWriter writer, String base, int rows, int cols, FloatSource source)
            throws IOException {
        int n = Math.multiplyExact(rows, cols);
        float[] scb = new float[rows];
        try (java.lang.foreign.Arena scratch = java.lang.foreign.Arena.ofConfined()) {
            Int8RowWise.quantize(values(source, n, base), 0, rows, cols, scratch.allocate(n), scb);
        }
        writer.add(base + ".weight", SafetensorsDtype.I8, new long[] {rows, cols}, arena -> {
            MemorySegment codes = arena.allocate(n);
            Int8RowWise.quantize(values(source, n, base), 0, rows, cols, codes, new float[rows]);
            return codes;
        });
        writer.add(base + ".SCB", SafetensorsDtype.F32, new long[] {rows}, SafetensorsWriter.floats(scb));
        writer.add(base + ".weight_format", SafetensorsDtype.U8, new long[0], SafetensorsWriter.bytes(new byte[] {0}));
    }

    private static float[] values(FloatSource source, int n, String base) throws IOException {
        float[] values = source.values();
        if (values.length != n) {
            throw new SafetensorsException("weight '" + base + "': source gave " + values.length + " values, expected " + n);
        }
        return values;
    }
}
