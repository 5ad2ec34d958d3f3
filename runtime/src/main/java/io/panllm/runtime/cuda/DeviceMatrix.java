package io.panllm.runtime.cuda;

import io.panllm.kernels.CudaStream;
import io.panllm.kernels.DecodeKernels.RowFormat;
import io.panllm.kernels.DeviceBuffer;
import io.panllm.kernels.Dp4aGemv;
import io.panllm.kernels.WeightFormat;
import io.panllm.runtime.model.TensorView;
import io.panllm.tensor.GgmlType;

/**
 * A weight matrix on the GPU in its GGUF type, as uploaded from the file (one stored row per
 * output), and the kernel that multiplies with it: the block-layout GEMVs (Q4_0, Q8_0, F16, BF16,
 * IQ4_NL, Q4_K, Q5_K, Q6_K and the NF4/FP4 extension types), the INT8 kernel (LLM.int8 rows, with a
 * float per row), the one-warp-per-row kernel for F32 and for F16 rows whose length is not a multiple of 8.
 */
final class DeviceMatrix {
    final String name;
    final DeviceBuffer data;
    final GgmlType type;
    final int rows;
    final int cols;
    private final WeightFormat gemvFormat;   // null: rowDot with rowFormat, or gemvInt8
    private final RowFormat rowFormat;
    /** INT8 only: SCB / 127 of each row, float32. */
    final DeviceBuffer rowScales;
    /** Whether this matrix multiplies through the dp4a kernels: x quantized to int8 blocks first. */
    final boolean quantizedInput;

    private DeviceMatrix(String name, DeviceBuffer data, DeviceBuffer rowScales, GgmlType type, int rows, int cols) {
        this.name = name;
        this.data = data;
        this.rowScales = rowScales;
        this.type = type;
        this.rows = rows;
        this.cols = cols;
        this.gemvFormat = gemvFormat(type, cols);
        this.rowFormat = rowFormat(type);
        this.quantizedInput = dp4a(type, gemvFormat, cols);
    }

    /**
     * Whether matrices of {@code type} multiply through {@link Dp4aGemv} (kernels/NOTES.md "GEMV v6":
     * x quantized once per step to int8 blocks, integer dot products). Off with
     * {@code -Dpanllm.cuda.dp4a=false}, which keeps the float-activation kernels everywhere.
     */
    private static boolean dp4a(GgmlType type, WeightFormat format, int cols) {
        if (!Boolean.parseBoolean(System.getProperty("panllm.cuda.dp4a", "true"))) {
            return false;
        }
        if (type == GgmlType.I8) {
            return DP4A_TYPES.contains(type) && Dp4aGemv.takesInt8(cols);
        }
        return format != null && DP4A_TYPES.contains(type) && Dp4aGemv.takes(format, cols);
    }

    /**
     * The types whose dp4a kernel passed DeviceCheck against its CPU reference (H200, 2026-12-03). Not
     * Q6_K: its kernel failed there (relative error ~1) and stays off until fixed (Dp4aGemv.takes refuses it).
     */
    private static final java.util.Set<GgmlType> DP4A_TYPES = java.util.EnumSet.of(GgmlType.Q4_0, GgmlType.Q8_0,
            GgmlType.IQ4_NL, GgmlType.NF4, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.I8);

    /** Checks that the GPU can multiply with {@code view} (before anything is uploaded). */
    static void checkSupported(TensorView view) {
        if (view.type() == GgmlType.I8) {
            if (view.rowScales() == null || view.rowLength() % 4 != 0) {
                throw new UnsupportedOnGpuException("tensor '" + view.name() + "' is I8 "
                        + (view.rowScales() == null ? "without row scales" : "with rows of " + view.rowLength()
                        + " (the INT8 kernel takes multiples of 4)"));
            }
            return;
        }
        if (gemvFormat(view.type(), Math.toIntExact(view.rowLength())) == null
                && (view.type() != GgmlType.F32 && view.type() != GgmlType.F16)) {
            throw new UnsupportedOnGpuException("tensor '" + view.name() + "' is " + view.type()
                    + " (the CUDA backend multiplies with F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K, IQ4_NL, NF4, FP4 and INT8)");
        }
    }

    /** {@code view} uploaded as {@code data} (and for INT8 its row scales as {@code rowScales}, else null). */
    static DeviceMatrix of(TensorView view, DeviceBuffer data, DeviceBuffer rowScales) {
        checkSupported(view);
        return new DeviceMatrix(view.name(), data, rowScales, view.type(), Math.toIntExact(view.rows()),
                Math.toIntExact(view.rowLength()));
    }

    /**
     * The block layout the GEMV and dequantization kernels read for a GGUF type (the same name),
     * or null where they have none (F32, I8: their own kernels; the types the GPU refuses).
     */
    static WeightFormat blockFormat(GgmlType type) {
        return switch (type) {
            case Q4_0, Q8_0, F16, BF16, IQ4_NL, Q4_K, Q5_K, Q6_K, NF4, FP4 -> WeightFormat.valueOf(type.name());
            default -> null;
        };
    }

    /** The GEMV layout for rows of {@code cols}: F16/BF16 rows must be whole 8-element "blocks". */
    private static WeightFormat gemvFormat(GgmlType type, int cols) {
        WeightFormat format = blockFormat(type);
        return format == null || cols % format.blockSize != 0 ? null : format;
    }

    /**
     * The row layout the embedding lookup reads, or null where it has no kernel for the type (the
     * table is then uploaded a second time, dequantized to F16: {@link DeviceWeights}).
     */
    static RowFormat rowFormat(GgmlType type) {
        return switch (type) {
            case F32 -> RowFormat.F32;
            case F16 -> RowFormat.F16;
            case Q8_0 -> RowFormat.Q8_0;
            case Q4_0 -> RowFormat.Q4_0;
            default -> null;
        };
    }

    /** Matrices of one type stacked row-wise in {@code data} (already checked), as one; rowScales likewise for INT8, else null. */
    static DeviceMatrix stacked(String name, DeviceBuffer data, DeviceBuffer rowScales, GgmlType type, int rows, int cols) {
        return new DeviceMatrix(name, data, rowScales, type, rows, cols);
    }

    /**
     * Rows {@code first .. first + count} of this matrix as a matrix of their own (a view of the
     * same device memory), e.g. a slice of the LM head small enough for a scratch buffer.
     */
    DeviceMatrix rows(int first, int count) {
        if (first < 0 || count <= 0 || first + count > rows || data.byteSize() % rows != 0) {
            throw new IllegalArgumentException("rows " + first + " to " + (first + count) + " of " + name + " (" + rows + " rows)");
        }
        long rowBytes = data.byteSize() / rows;
        DeviceBuffer scales = rowScales == null ? null : rowScales.slice(4L * first, 4L * count);
        return new DeviceMatrix(name + "[" + first + ":" + (first + count) + "]", data.slice(first * rowBytes, count * rowBytes),
                scales, type, count, cols);
    }

    /** Enqueues {@code y = W x} for each of {@code matrices} in turn, their outputs one after the other in {@code y}. */
    static void multiplyAll(java.util.List<DeviceMatrix> matrices, CudaKernels kernels, CudaStream stream, DeviceBuffer x,
                            DeviceBuffer y) {
        long offset = 0;
        for (DeviceMatrix m : matrices) {
            m.multiply(kernels, stream, x, y.slice(offset, 4L * m.rows));
            offset += 4L * m.rows;
        }
    }

    /**
     * As {@link #multiplyAll(java.util.List, CudaKernels, CudaStream, DeviceBuffer, DeviceBuffer)}, x quantized
     * into {@code xq} first (once for all of them) if any of the matrices takes it that way.
     */
    static void multiplyAll(java.util.List<DeviceMatrix> matrices, CudaKernels kernels, CudaStream stream, DeviceBuffer x,
                            DeviceBuffer xq, DeviceBuffer y) {
        DeviceMatrix quantizing = matrices.stream().filter(m -> m.quantizedInput).findFirst().orElse(null);
        if (quantizing != null) {
            kernels.dp4a().quantize(stream, x, xq, quantizing.cols);
        }
        long offset = 0;
        for (DeviceMatrix m : matrices) {
            m.multiplyQuantized(kernels, stream, x, xq, y.slice(offset, 4L * m.rows));
            offset += 4L * m.rows;
        }
    }

    /** Enqueues {@code y = this x}, through x quantized into {@code xq} where this matrix takes that (xq is scratch). */
    void multiply(CudaKernels kernels, CudaStream stream, DeviceBuffer x, DeviceBuffer xq, DeviceBuffer y) {
        multiplyAll(java.util.List.of(this), kernels, stream, x, xq, y);
    }

    /** y = this x, with xq = x quantized already if this matrix takes quantized input. */
    private void multiplyQuantized(CudaKernels kernels, CudaStream stream, DeviceBuffer x, DeviceBuffer xq, DeviceBuffer y) {
        if (!quantizedInput) {
            multiply(kernels, stream, x, y);
        } else if (type == GgmlType.I8) {
            kernels.dp4a().gemvInt8(stream, data, rowScales, xq, y, rows, cols);
        } else {
            kernels.dp4a().gemv(stream, gemvFormat, data, xq, y, rows, cols);
        }
    }

    /** Enqueues {@code y = this x} with float activations (never the dp4a kernels). */
    void multiply(CudaKernels kernels, CudaStream stream, DeviceBuffer x, DeviceBuffer y) {
        if (gemvFormat != null) {
            kernels.gemv().gemv(stream, gemvFormat, data, x, y, rows, cols);
        } else if (type == GgmlType.I8) {
            kernels.gemv().gemvInt8(stream, data, rowScales, x, y, rows, cols);
        } else {
            kernels.decode().rowDot(stream, rowFormat, data, x, y, rows, cols);
        }
    }

    /** Enqueues {@code out = row token of this matrix}, dequantized (the embedding lookup). */
    void lookUpRow(CudaKernels kernels, CudaStream stream, DeviceBuffer token, DeviceBuffer out) {
        kernels.decode().embed(stream, rowFormat, data, token, out, cols);
    }
}
