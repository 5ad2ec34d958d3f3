package io.panllm.tensor;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HexFormat;
import java.util.Random;

/** Helpers shared by the codec tests. */
final class CodecTestSupport {
    private CodecTestSupport() {
    }

    static byte[] resource(String name) {
        try (InputStream in = CodecTestSupport.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static float[] floatsOf(byte[] littleEndian) {
        float[] values = new float[littleEndian.length / 4];
        MemorySegment.copy(MemorySegment.ofArray(littleEndian), LittleEndian.FLOAT, 0, values, 0, values.length);
        return values;
    }

    static byte[] bytesOf(float[] values) {
        byte[] bytes = new byte[values.length * 4];
        MemorySegment.copy(values, 0, MemorySegment.ofArray(bytes), LittleEndian.FLOAT, 0, values.length);
        return bytes;
    }

    /** Quantizes into a fresh off-heap segment and returns its bytes (off-heap: like a mapped file). */
    static byte[] quantize(GgmlType type, float[] x) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(type.byteSize(x.length));
            type.codec().quantize(x, 0, x.length, dst);
            return dst.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        }
    }

    static float[] dequantize(GgmlType type, byte[] blocks, int n) {
        return type.codec().dequantize(MemorySegment.ofArray(blocks), n);
    }

    static float[] gaussian(long seed, int n, double sigma) {
        Random random = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (random.nextGaussian() * sigma);
        }
        return x;
    }

    /** RMS(x - y) / RMS(x). */
    static double relativeRmsError(float[] x, float[] y) {
        double err = 0;
        double ref = 0;
        for (int i = 0; i < x.length; i++) {
            double d = (double) x[i] - y[i];
            err += d * d;
            ref += (double) x[i] * x[i];
        }
        return Math.sqrt(err / ref);
    }

    static String hex(byte[] bytes, int from, int to) {
        return HexFormat.of().formatHex(bytes, from, to);
    }

    /** Index of the first differing byte, or -1. */
    static int firstDifference(byte[] a, byte[] b) {
        int n = Math.min(a.length, b.length);
        for (int i = 0; i < n; i++) {
            if (a[i] != b[i]) {
                return i;
            }
        }
        return a.length == b.length ? -1 : n;
    }
}
