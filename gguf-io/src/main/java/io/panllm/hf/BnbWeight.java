package io.panllm.hf;

import io.panllm.safetensors.SafetensorsCheckpoint;
import io.panllm.safetensors.SafetensorsDtype;
import io.panllm.safetensors.SafetensorsTensor;
import io.panllm.tensor.Bnb4bit;
import io.panllm.tensor.Int8RowWise;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One linear layer's weight as transformers saves it, plain or quantized by bitsandbytes, read as
 * float32 rows of its logical [out_features, in_features] matrix. For module {@code X}:
 *
 * <ul>
 *   <li>plain: {@code X.weight} (F32, F16, BF16) [out, in];
 *   <li>4-bit ({@link BnbWriter} documents the full key set): {@code X.weight} uint8 packed codes,
 *       {@code X.weight.absmax}, {@code X.weight.quant_map}, optionally {@code X.weight.nested_absmax}
 *       and {@code X.weight.nested_quant_map}, and the JSON quant state
 *       {@code X.weight.quant_state.bitsandbytes__nf4|fp4} ({@link BnbQuantState});
 *   <li>LLM.int8: {@code X.weight} int8 [out, in] and {@code X.SCB} float32 [out].
 * </ul>
 *
 * Decoding goes through {@link Bnb4bit} and {@link Int8RowWise}; reads are thread-safe.
 */
public final class BnbWeight {

    /** How the weight is stored. */
    public enum Kind { PLAIN, NF4, FP4, INT8 }

    private final String name;
    private final Kind kind;
    private final long rows;
    private final long columns;
    private final SafetensorsTensor weight;
    // 4-bit only
    private final BnbQuantState state;
    private final SafetensorsTensor absmax;
    private final SafetensorsTensor nestedAbsmax;
    private final float[] nestedQuantMap;
    // int8 only
    private final SafetensorsTensor scb;

    private BnbWeight(String name, Kind kind, long rows, long columns, SafetensorsTensor weight, BnbQuantState state,
            SafetensorsTensor absmax, SafetensorsTensor nestedAbsmax, float[] nestedQuantMap, SafetensorsTensor scb) {
        this.name = name;
        this.kind = kind;
        this.rows = rows;
        this.columns = columns;
        this.weight = weight;
        this.state = state;
        this.absmax = absmax;
        this.nestedAbsmax = nestedAbsmax;
        this.nestedQuantMap = nestedQuantMap;
        this.scb = scb;
    }

    /** How {@code module}'s weight is stored, without validating it. */
    public static Kind kindOf(SafetensorsCheckpoint checkpoint, String module) {
        String w = module + ".weight";
        if (checkpoint.contains(w + "." + BnbQuantState.tensorSuffix(Bnb4bit.QuantType.NF4))) {
            return Kind.NF4;
        }
        if (checkpoint.contains(w + "." + BnbQuantState.tensorSuffix(Bnb4bit.QuantType.FP4))) {
            return Kind.FP4;
        }
        if (checkpoint.contains(module + ".SCB")) {
            return Kind.INT8;
        }
        return Kind.PLAIN;
    }

    /**
     * Opens {@code module}'s weight ({@code module} without ".weight": "model.layers.0.mlp.up_proj").
     *
     * @throws HfCheckpointException when tensors are missing or their sizes disagree
     */
    public static BnbWeight open(SafetensorsCheckpoint checkpoint, String module) {
        String weightName = module + ".weight";
        SafetensorsTensor weight = require(checkpoint, weightName);
        Kind kind = kindOf(checkpoint, module);
        return switch (kind) {
            case PLAIN -> plain(module, weight);
            case INT8 -> int8(checkpoint, module, weight);
            case NF4, FP4 -> fourBit(checkpoint, module, weight, kind);
        };
    }

    private static BnbWeight plain(String module, SafetensorsTensor weight) {
        if (weight.rank() != 2 || !isFloat(weight.dtype())) {
            throw new HfCheckpointException(module + ".weight: " + weight.dtype() + " " + Arrays.toString(weight.shape())
                    + " is not a float matrix (and no bitsandbytes tensors are beside it)");
        }
        return new BnbWeight(module, Kind.PLAIN, weight.dim(0), weight.dim(1), weight, null, null, null, null, null);
    }

    private static BnbWeight int8(SafetensorsCheckpoint checkpoint, String module, SafetensorsTensor weight) {
        SafetensorsTensor scb = require(checkpoint, module + ".SCB");
        if (weight.dtype() != SafetensorsDtype.I8 || weight.rank() != 2) {
            throw new HfCheckpointException(module + ".weight: LLM.int8 weight must be I8 [out, in], is " + weight);
        }
        if (scb.dtype() != SafetensorsDtype.F32 || scb.elementCount() != weight.dim(0)) {
            throw new HfCheckpointException(module + ".SCB: must be F32 [" + weight.dim(0) + "], is " + scb);
        }
        return new BnbWeight(module, Kind.INT8, weight.dim(0), weight.dim(1), weight, null, null, null, null, scb);
    }

    private static BnbWeight fourBit(SafetensorsCheckpoint checkpoint, String module, SafetensorsTensor weight, Kind kind) {
        String w = module + ".weight";
        Bnb4bit.QuantType type = kind == Kind.NF4 ? Bnb4bit.QuantType.NF4 : Bnb4bit.QuantType.FP4;
        SafetensorsTensor stateTensor = require(checkpoint, w + "." + BnbQuantState.tensorSuffix(type));
        if (stateTensor.dtype() != SafetensorsDtype.U8) {
            throw new HfCheckpointException(stateTensor.name() + ": must be U8 JSON bytes, is " + stateTensor.dtype());
        }
        if (stateTensor.elementCount() > 1 << 16) {
            throw new HfCheckpointException(stateTensor.name() + ": " + stateTensor.elementCount() + " bytes is too large");
        }
        BnbQuantState state = BnbQuantState.parse(stateTensor.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                stateTensor.name());
        if (state.quantType() != type) {
            throw new HfCheckpointException(stateTensor.name() + ": says quant_type " + state.quantType());
        }
        long n = state.shape()[0] * state.shape()[1];
        long blocks = (n + state.blocksize() - 1) / state.blocksize();
        if (weight.dtype() != SafetensorsDtype.U8 || weight.elementCount() != Bnb4bit.packedBytes(n)) {
            throw new HfCheckpointException(w + ": " + weight + " does not hold the " + Bnb4bit.packedBytes(n)
                    + " packed bytes of " + Arrays.toString(state.shape()));
        }
        if (state.blocksize() % 2 != 0 || state.blocksize() < 32 || state.blocksize() > 4096) {
            throw new HfCheckpointException(stateTensor.name() + ": block size " + state.blocksize() + " is not supported");
        }
        SafetensorsTensor quantMap = require(checkpoint, w + ".quant_map");
        float[] table = type.table();
        if (quantMap.dtype() != SafetensorsDtype.F32 || quantMap.elementCount() != table.length
                || !closeTo(quantMap.toFloats(), table)) {
            throw new HfCheckpointException(w + ".quant_map: is not bitsandbytes' " + type + " table");
        }
        SafetensorsTensor absmax = require(checkpoint, w + ".absmax");
        SafetensorsDtype absmaxType = state.nested() ? SafetensorsDtype.U8 : SafetensorsDtype.F32;
        if (absmax.dtype() != absmaxType || absmax.elementCount() != blocks) {
            throw new HfCheckpointException(w + ".absmax: must be " + absmaxType + " [" + blocks + "], is " + absmax);
        }
        SafetensorsTensor nestedAbsmax = null;
        float[] nestedQuantMap = null;
        if (state.nested()) {
            nestedAbsmax = require(checkpoint, w + ".nested_absmax");
            long nestedBlocks = (blocks + state.nestedBlocksize() - 1) / state.nestedBlocksize();
            if (nestedAbsmax.dtype() != SafetensorsDtype.F32 || nestedAbsmax.elementCount() != nestedBlocks) {
                throw new HfCheckpointException(w + ".nested_absmax: must be F32 [" + nestedBlocks + "], is " + nestedAbsmax);
            }
            SafetensorsTensor map = require(checkpoint, w + ".nested_quant_map");
            if (map.dtype() != SafetensorsDtype.F32 || map.elementCount() != 256) {
                throw new HfCheckpointException(w + ".nested_quant_map: must be F32 [256], is " + map);
            }
            nestedQuantMap = map.toFloats();
        }
        return new BnbWeight(module, kind, state.shape()[0], state.shape()[1], weight, state, absmax, nestedAbsmax,
                nestedQuantMap, null);
    }

    private static boolean closeTo(float[] a, float[] b) {
        for (int i = 0; i < a.length; i++) {
            if (!(Math.abs(a[i] - b[i]) <= 1e-6f)) {
                return false;
            }
        }
        return true;
    }

    private static boolean isFloat(SafetensorsDtype d) {
        return d == SafetensorsDtype.F32 || d == SafetensorsDtype.F16 || d == SafetensorsDtype.BF16
                || d == SafetensorsDtype.F64;
    }

    private static SafetensorsTensor require(SafetensorsCheckpoint checkpoint, String name) {
        if (!checkpoint.contains(name)) {
            throw new HfCheckpointException(checkpoint.location() + ": checkpoint has no tensor '" + name + "'");
        }
        return checkpoint.tensor(name);
    }

    public String name() {
        return name;
    }

    public Kind kind() {
        return kind;
    }

    /** The logical shape in PyTorch order: [out_features, in_features]. */
    public long[] shape() {
        return new long[] {rows, columns};
    }

    public long rows() {
        return rows;
    }

    public long columns() {
        return columns;
    }

    /** The 4-bit quant state, or null for the other kinds. */
    public BnbQuantState quantState() {
        return state;
    }

    /** Decodes rows {@code [first, first + count)} into {@code dst[0, count * columns)}. */
    public void readRows(long first, int count, float[] dst) {
        readRows(first, count, dst, 0);
    }

    /** Decodes rows {@code [first, first + count)} into {@code dst[dstOffset, dstOffset + count * columns)}. */
    public void readRows(long first, int count, float[] dst, int dstOffset) {
        java.util.Objects.checkFromIndexSize(first, count, rows);
        int length = Math.toIntExact(count * columns);
        java.util.Objects.checkFromIndexSize(dstOffset, length, dst.length);
        switch (kind) {
            case PLAIN -> weight.readFloats(first * columns, length, dst, dstOffset);
            case INT8 -> {
                float[] scales = new float[count];
                scb.readFloats(first, count, scales, 0);
                for (int r = 0; r < count; r++) {
                    MemorySegment row = weight.data().asSlice((first + r) * columns, columns);
                    Int8RowWise.dequantizeRow(row, scales[r], dst, dstOffset + Math.toIntExact(r * columns));
                }
            }
            case NF4, FP4 -> readFourBit(first * columns, length, dst, dstOffset);
        }
    }

    /** Decodes elements [start, start + length) of the flat tensor: whole blocks around them, then the part asked for. */
    private void readFourBit(long start, int length, float[] dst, int dstOffset) {
        int blocksize = state.blocksize();
        long n = rows * columns;
        long firstBlock = start / blocksize;
        long endBlock = (start + length + blocksize - 1) / blocksize;
        long decodeStart = firstBlock * blocksize;
        int decodeCount = Math.toIntExact(Math.min(n, endBlock * blocksize) - decodeStart);
        float[] scales = absmaxOf(firstBlock, Math.toIntExact(endBlock - firstBlock));
        MemorySegment codes = weight.data().asSlice(decodeStart / 2, Bnb4bit.packedBytes(decodeCount));
        float[] decoded = new float[decodeCount];
        Bnb4bit.dequantize(state.quantType(), codes, scales, blocksize, decoded, 0, decodeCount);
        System.arraycopy(decoded, Math.toIntExact(start - decodeStart), dst, dstOffset, length);
    }

    /** The absmax of blocks [first, first + count), undoing the double quantization when there is one. */
    private float[] absmaxOf(long first, int count) {
        float[] out = new float[count];
        if (!state.nested()) {
            absmax.readFloats(first, count, out, 0);
            return out;
        }
        int nestedBlock = state.nestedBlocksize();
        long groupStart = first / nestedBlock * nestedBlock; // dequantizeAbsmax indexes nested blocks from its start
        int span = Math.toIntExact(first + count - groupStart);
        float[] nested = new float[Bnb4bit.blockCount(span, nestedBlock)];
        nestedAbsmax.readFloats(groupStart / nestedBlock, nested.length, nested, 0);
        float[] all = Bnb4bit.dequantizeAbsmax(absmax.data().asSlice(groupStart, span), nested, nestedQuantMap, nestedBlock,
                state.nestedOffset(), span);
        System.arraycopy(all, Math.toIntExact(first - groupStart), out, 0, count);
        return out;
    }
}
