package io.panllm.gguf;

import io.panllm.io.AtomicFile;
import io.panllm.tensor.GgmlType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a GGUF v3 file, streaming: tensors are produced one at a time by their {@link TensorSource}
 * and written straight to disk, so a model larger than the heap converts. Output goes to a
 * temporary file beside the target, renamed over it only when everything was written; a failure
 * (or a full disk) leaves no partial file behind.
 *
 * <p>Tensor data offsets follow llama.cpp: each tensor starts at a multiple of the alignment, the
 * gaps (and the end of the last tensor) zero-padded, so a file read and written back is
 * byte-identical.
 */
public final class GgufWriter {

    /** Produces one tensor's bytes, allocating in the given arena (closed after the write). */
    @FunctionalInterface
    public interface TensorSource {
        MemorySegment produce(Arena arena) throws IOException;
    }

    /** Told after each tensor is written. */
    @FunctionalInterface
    public interface Progress {
        void tensorWritten(int index, int count, String name, long bytesDone, long bytesTotal);
    }

    private record PendingTensor(String name, GgmlType type, long[] shape, long byteSize, TensorSource source) {
    }

    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<PendingTensor> tensors = new ArrayList<>();
    private int alignment = GgufFile.DEFAULT_ALIGNMENT;

    /** Sets (or replaces, keeping its place) a metadata value. */
    public GgufWriter put(String key, GgufValue value) {
        if (key.equals("general.alignment")) {
            long a = value.asLong();
            if (a <= 0 || Long.bitCount(a) != 1 || a > (1 << 20)) {
                throw new GgufException("general.alignment must be a power of two, got " + a);
            }
            alignment = (int) a;
        }
        metadata.put(key, value);
        return this;
    }

    public GgufWriter putAll(GgufMetadata m) {
        m.asMap().forEach(this::put);
        return this;
    }

    public GgufWriter putString(String key, String value) {
        return put(key, GgufValue.ofString(value));
    }

    public GgufWriter putUInt32(String key, int value) {
        return put(key, GgufValue.ofUInt32(value));
    }

    public GgufWriter putFloat32(String key, float value) {
        return put(key, GgufValue.ofFloat32(value));
    }

    public GgufWriter putBool(String key, boolean value) {
        return put(key, GgufValue.ofBool(value));
    }

    public GgufWriter remove(String key) {
        metadata.remove(key);
        return this;
    }

    /**
     * Adds a tensor. {@code shape} is in ggml order (shape[0] = row length). The sources are asked
     * for their bytes one at a time, in the order the tensors were added (the file's order).
     */
    public GgufWriter addTensor(String name, GgmlType type, long[] shape, TensorSource source) {
        if (shape.length < 1 || shape.length > GgufFile.MAX_DIMS) {
            throw new GgufException("tensor '" + name + "': " + shape.length + " dimensions");
        }
        long elements = 1;
        for (long d : shape) {
            elements = Math.multiplyExact(elements, d);
        }
        if (shape[0] % type.blockSize != 0) {
            throw new GgufException("tensor '" + name + "': row length " + shape[0] + " is not a multiple of the "
                    + type + " block size " + type.blockSize);
        }
        for (PendingTensor t : tensors) {
            if (t.name.equals(name)) {
                throw new GgufException("duplicate tensor name '" + name + "'");
            }
        }
        tensors.add(new PendingTensor(name, type, shape.clone(), type.byteSize(elements), source));
        return this;
    }

    /** Copies a tensor of an open file as it is. */
    public GgufWriter addTensor(GgufFile file, GgufTensorInfo info) {
        return addTensor(info.name(), info.type(), info.shape(), arena -> file.tensorData(info));
    }

    /** Writes everything to {@code target} (through a temporary file: see {@link AtomicFile}). */
    public void write(Path target, Progress progress) throws IOException {
        AtomicFile.write(target, out -> writeTo(out, progress));
    }

    private void writeTo(FileChannel out, Progress progress) throws IOException {
        writeHeader(out);
        long total = 0;
        for (PendingTensor t : tensors) {
            total += t.byteSize;
        }
        long written = 0;
        for (int i = 0; i < tensors.size(); i++) {
            PendingTensor t = tensors.get(i);
            try (Arena arena = Arena.ofShared()) { // shared: sources may fill it from several threads
                MemorySegment data = t.source.produce(arena);
                if (data.byteSize() != t.byteSize) {
                    throw new GgufException("tensor '" + t.name + "': source produced " + data.byteSize()
                            + " bytes, expected " + t.byteSize + " for " + t.type + " " + java.util.Arrays.toString(t.shape));
                }
                AtomicFile.writeFully(out, data.asByteBuffer());
            }
            writePadding(out, t.byteSize);
            written += t.byteSize;
            if (progress != null) {
                progress.tensorWritten(i, tensors.size(), t.name, written, total);
            }
        }
    }

    private void writeHeader(FileChannel out) throws IOException {
        HeaderBuffer h = new HeaderBuffer();
        h.i32(GgufFile.MAGIC);
        h.i32(3);
        h.i64(tensors.size());
        h.i64(metadata.size());
        for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
            h.string(e.getKey());
            h.i32(e.getValue().type().id());
            writeValue(h, e.getValue().type(), e.getValue().value());
        }
        long offset = 0;
        for (PendingTensor t : tensors) {
            h.string(t.name);
            h.i32(t.shape.length);
            for (long d : t.shape) {
                h.i64(d);
            }
            h.i32(t.type.id);
            h.i64(offset);
            offset = GgufFile.alignUp(offset + t.byteSize, alignment);
        }
        ByteBuffer header = h.finish();
        AtomicFile.writeFully(out, header);
        if (!tensors.isEmpty()) { // llama.cpp pads the header only when tensor data follows
            writePadding(out, header.limit());
        }
    }

    private static void writeValue(HeaderBuffer h, GgufValueType type, Object v) {
        switch (type) {
            case UINT8, INT8 -> h.i8((Byte) v);
            case UINT16, INT16 -> h.i16((Short) v);
            case UINT32, INT32 -> h.i32((Integer) v);
            case UINT64, INT64 -> h.i64((Long) v);
            case FLOAT32 -> h.f32((Float) v);
            case FLOAT64 -> h.f64((Double) v);
            case BOOL -> h.i8((byte) ((Boolean) v ? 1 : 0));
            case STRING -> h.string((String) v);
            case ARRAY -> writeArray(h, (GgufArray) v);
        }
    }

    private static void writeArray(HeaderBuffer h, GgufArray a) {
        h.i32(a.elementType().id());
        h.i64(a.length());
        switch (a.values()) {
            case byte[] x -> { for (byte b : x) h.i8(b); }
            case short[] x -> { for (short s : x) h.i16(s); }
            case int[] x -> { for (int i : x) h.i32(i); }
            case long[] x -> { for (long l : x) h.i64(l); }
            case float[] x -> { for (float f : x) h.f32(f); }
            case double[] x -> { for (double d : x) h.f64(d); }
            case boolean[] x -> { for (boolean b : x) h.i8((byte) (b ? 1 : 0)); }
            case List<?> list -> {
                for (Object o : list) {
                    writeValue(h, a.elementType(), o);
                }
            }
            default -> throw new GgufException("unsupported array payload " + a.values().getClass());
        }
    }

    private void writePadding(FileChannel out, long bytesSoFar) throws IOException {
        int pad = (int) (GgufFile.alignUp(bytesSoFar, alignment) - bytesSoFar);
        if (pad > 0) {
            AtomicFile.writeFully(out, ByteBuffer.allocate(pad));
        }
    }

    /** A growable little-endian buffer for the header (metadata can be tens of megabytes). */
    private static final class HeaderBuffer {
        private ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

        private void ensure(int n) {
            if (buf.remaining() < n) {
                long want = Math.max((long) buf.capacity() * 2, (long) buf.position() + n);
                if (want > Integer.MAX_VALUE - 16) {
                    throw new GgufException("GGUF header larger than 2 GB");
                }
                ByteBuffer bigger = ByteBuffer.allocate((int) want).order(ByteOrder.LITTLE_ENDIAN);
                buf.flip();
                bigger.put(buf);
                buf = bigger;
            }
        }

        void i8(byte v) { ensure(1); buf.put(v); }
        void i16(short v) { ensure(2); buf.putShort(v); }
        void i32(int v) { ensure(4); buf.putInt(v); }
        void i64(long v) { ensure(8); buf.putLong(v); }
        void f32(float v) { ensure(4); buf.putFloat(v); }
        void f64(double v) { ensure(8); buf.putDouble(v); }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i64(b.length);
            ensure(b.length);
            buf.put(b);
        }

        ByteBuffer finish() {
            buf.flip();
            return buf;
        }
    }
}
