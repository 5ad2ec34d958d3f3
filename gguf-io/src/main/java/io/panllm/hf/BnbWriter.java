package io.panllm.hf;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.panllm.safetensors.SafetensorsDtype;
import io.panllm.safetensors.SafetensorsWriter;
import io.panllm.tensor.Bnb4bit;
import io.panllm.tensor.Int8RowWise;
import io.panllm.tensor.LittleEndian;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;

/**
 * Adds bitsandbytes-quantized linear weights to a {@link SafetensorsWriter} in the layout
 * transformers saves (and loads back) for a model quantized with BitsAndBytesConfig.
 * For module {@code X} ("model.layers.0.self_attn.q_proj") the keys are exactly:
 *
 * <pre>
 * 4-bit (nf4 or fp4), what Linear4bit._save_to_state_dict writes:
 *   X.weight                                   U8  [(n + 1) / 2, 1]   codes, two per byte, first in the high nibble
 *   X.weight.absmax                            F32 [blocks]           (U8 [blocks] with double quantization)
 *   X.weight.quant_map                         F32 [16]               the nf4 / fp4 table
 *   X.weight.nested_absmax                     F32 [ceil(blocks/256)] only with double quantization
 *   X.weight.nested_quant_map                  F32 [256]              only with double quantization (dynamic map)
 *   X.weight.quant_state.bitsandbytes__nf4     U8  [json bytes]       {@link BnbQuantState} (…__fp4 for fp4)
 * LLM.int8, what Linear8bitLt._save_to_state_dict writes:
 *   X.weight                                   I8  [out, in]
 *   X.SCB                                      F32 [out]
 *   X.weight_format                            U8  []                 0 = row-major
 * </pre>
 *
 * with n = out * in, blocks = ceil(n / 64). Everything else (embeddings, norms, lm_head) stays in
 * the checkpoint's dtype; config.json needs {@link #quantizationConfig4bit} or
 * {@link #quantizationConfig8bit} as its {@code quantization_config}.
 *
 * <p>Streaming: a weight is read and quantized when its first tensor is written, and dropped after its last.
 */
public final class BnbWriter {
    private BnbWriter() {
    }

    /** Reads float32 rows of a [rows, columns] matrix: dst[0, count * columns). */
    @FunctionalInterface
    public interface RowSource {
        void read(long first, int count, float[] dst) throws IOException;
    }

    /** Holds one weight's quantized form from its first tensor to its last. */
    private static final class Once<T> {
        interface Producer<T> {
            T produce() throws IOException;
        }

        private final Producer<T> producer;
        private T value;
        private boolean released;

        Once(Producer<T> producer) {
            this.producer = producer;
        }

        synchronized T get() throws IOException {
            if (released) {
                throw new IllegalStateException("quantized weight already released");
            }
            if (value == null) {
                value = producer.produce();
            }
            return value;
        }

        synchronized T getAndRelease() throws IOException {
            T v = get();
            value = null;
            released = true;
            return v;
        }
    }

    private record FourBit(Bnb4bit.Quantized codes, Bnb4bit.NestedAbsmax nested, BnbQuantState state) {
    }

    /**
     * Declares the tensors of a 4-bit weight.
     *
     * @param dtype the unquantized dtype recorded in the quant state: "bfloat16", "float16" or "float32"
     */
    public static void add4bit(SafetensorsWriter out, String module, Bnb4bit.QuantType type, boolean doubleQuant,
            String dtype, int rows, int columns, RowSource source) {
        int n = Math.multiplyExact(rows, columns);
        int blocksize = Bnb4bit.DEFAULT_BLOCK_SIZE;
        int blocks = Bnb4bit.blockCount(n, blocksize);
        BnbQuantState shapeOnly = new BnbQuantState(type, blocksize, dtype, new long[] {rows, columns}, doubleQuant,
                doubleQuant ? Bnb4bit.NESTED_BLOCK_SIZE : 0, doubleQuant ? 0f : Float.NaN);
        Once<FourBit> quantized = new Once<>(() -> {
            float[] values = new float[n];
            source.read(0, rows, values);
            Bnb4bit.Quantized codes = Bnb4bit.quantize(type, values, 0, n, blocksize);
            Bnb4bit.NestedAbsmax nested = doubleQuant ? Bnb4bit.quantizeAbsmax(codes.absmax()) : null;
            BnbQuantState state = new BnbQuantState(type, blocksize, dtype, new long[] {rows, columns}, doubleQuant,
                    doubleQuant ? nested.nestedBlockSize() : 0, doubleQuant ? nested.offset() : Float.NaN);
            return new FourBit(codes, nested, state);
        });
        String w = module + ".weight";
        out.add(w, SafetensorsDtype.U8, new long[] {Bnb4bit.packedBytes(n), 1},
                arena -> MemorySegment.ofArray(quantized.get().codes().packedCodes()));
        if (doubleQuant) {
            out.add(w + ".absmax", SafetensorsDtype.U8, new long[] {blocks},
                    arena -> MemorySegment.ofArray(quantized.get().nested().codes()));
        } else {
            out.add(w + ".absmax", SafetensorsDtype.F32, new long[] {blocks},
                    arena -> floats(arena, quantized.get().codes().absmax()));
        }
        out.addFloats(w + ".quant_map", new long[] {16}, type.table());
        if (doubleQuant) {
            out.add(w + ".nested_absmax", SafetensorsDtype.F32, new long[] {Bnb4bit.blockCount(blocks, Bnb4bit.NESTED_BLOCK_SIZE)},
                    arena -> floats(arena, quantized.get().nested().nestedAbsmax()));
            out.addFloats(w + ".nested_quant_map", new long[] {256}, Bnb4bit.dynamicMap());
        }
        out.add(w + "." + BnbQuantState.tensorSuffix(type), SafetensorsDtype.U8, new long[] {shapeOnly.jsonLength()},
                arena -> MemorySegment.ofArray(quantized.getAndRelease().state().toJson()));
    }

    /** Declares the tensors of an LLM.int8 weight. */
    public static void addInt8(SafetensorsWriter out, String module, int rows, int columns, RowSource source) {
        int n = Math.multiplyExact(rows, columns);
        record Int8(byte[] codes, float[] scb) {
        }
        Once<Int8> quantized = new Once<>(() -> {
            float[] values = new float[n];
            source.read(0, rows, values);
            byte[] codes = new byte[n];
            float[] scb = new float[rows];
            Int8RowWise.quantize(values, 0, rows, columns, MemorySegment.ofArray(codes), scb);
            return new Int8(codes, scb);
        });
        out.add(module + ".weight", SafetensorsDtype.I8, new long[] {rows, columns},
                arena -> MemorySegment.ofArray(quantized.get().codes()));
        out.add(module + ".SCB", SafetensorsDtype.F32, new long[] {rows},
                arena -> floats(arena, quantized.getAndRelease().scb()));
        out.addBytes(module + ".weight_format", SafetensorsDtype.U8, new long[] {}, new byte[] {0});
    }

    private static MemorySegment floats(Arena arena, float[] values) {
        MemorySegment s = arena.allocate(4L * values.length);
        MemorySegment.copy(values, 0, s, LittleEndian.FLOAT, 0, values.length);
        return s;
    }

    /** config.json's quantization_config for a 4-bit checkpoint, as transformers writes BitsAndBytesConfig. */
    public static ObjectNode quantizationConfig4bit(Bnb4bit.QuantType type, boolean doubleQuant, String computeDtype) {
        ObjectNode c = common();
        c.put("_load_in_4bit", true);
        c.put("_load_in_8bit", false);
        c.put("bnb_4bit_compute_dtype", computeDtype);
        c.put("bnb_4bit_quant_storage", "uint8");
        c.put("bnb_4bit_quant_type", type.name().toLowerCase(Locale.ROOT));
        c.put("bnb_4bit_use_double_quant", doubleQuant);
        c.put("load_in_4bit", true);
        c.put("load_in_8bit", false);
        return c;
    }

    /** config.json's quantization_config for an LLM.int8 checkpoint. */
    public static ObjectNode quantizationConfig8bit() {
        ObjectNode c = common();
        c.put("_load_in_4bit", false);
        c.put("_load_in_8bit", true);
        c.put("bnb_4bit_compute_dtype", "float32");
        c.put("bnb_4bit_quant_storage", "uint8");
        c.put("bnb_4bit_quant_type", "fp4");
        c.put("bnb_4bit_use_double_quant", false);
        c.put("load_in_4bit", false);
        c.put("load_in_8bit", true);
        return c;
    }

    private static ObjectNode common() {
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        c.put("quant_method", "bitsandbytes");
        c.put("llm_int8_enable_fp32_cpu_offload", false);
        c.put("llm_int8_has_fp16_weight", false);
        c.putNull("llm_int8_skip_modules");
        c.put("llm_int8_threshold", 6.0);
        return c;
    }
}
