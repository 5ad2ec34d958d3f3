package io.panllm.kernels;

import io.panllm.cuda.bindings.cublas_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A cuBLAS handle bound to one stream, for the matrix products of prefill and batched attention:
 * FP16 or BF16 inputs, FP32 accumulation. cuBLAS is column-major; {@link #linear} does the
 * row-major bookkeeping for the usual {@code out = activations · weightsᵀ}.
 */
public final class Cublas implements AutoCloseable {
    /** Element types of A, B and C (cudaDataType). */
    public enum DataType {
        F16(cublas_h.CUDA_R_16F(), 2), BF16(cublas_h.CUDA_R_16BF(), 2), F32(cublas_h.CUDA_R_32F(), 4);

        final int code;
        public final int bytes;

        DataType(int code, int bytes) {
            this.code = code;
            this.bytes = bytes;
        }
    }

    /** Whether an operand is used as stored (column-major) or transposed. */
    public enum Operation {
        N(cublas_h.CUBLAS_OP_N()), T(cublas_h.CUBLAS_OP_T());

        final int code;

        Operation(int code) {
            this.code = code;
        }
    }

    private final MemorySegment handle;
    private boolean closed;

    private Cublas(MemorySegment handle) {
        this.handle = handle;
    }

    /** Loads cuBLAS and creates a handle in the current context, issuing on {@code stream}. */
    public static Cublas create(CudaStream stream) {
        NativeLibraries.loadCublas();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment holder = arena.allocate(ValueLayout.ADDRESS);
            check(cublas_h.cublasCreate_v2(holder), "cublasCreate");
            Cublas cublas = new Cublas(holder.get(ValueLayout.ADDRESS, 0));
            cublas.setStream(stream);
            // Tensor cores for FP16/BF16 inputs are used by default; forbid nothing, allow no TF32 for F32.
            check(cublas_h.cublasSetMathMode(cublas.handle, cublas_h.CUBLAS_DEFAULT_MATH()), "cublasSetMathMode");
            return cublas;
        }
    }

    public void setStream(CudaStream stream) {
        check(cublas_h.cublasSetStream_v2(handle(), stream.handle()), "cublasSetStream");
    }

    /**
     * cublasGemmEx with FP32 compute: {@code C = alpha · op(A) · op(B) + beta · C}, all column-major,
     * op(A) m×k, op(B) k×n, C m×n.
     */
    public void gemm(Operation transA, Operation transB, int m, int n, int k,
                     float alpha, DeviceBuffer a, DataType aType, int lda,
                     DeviceBuffer b, DataType bType, int ldb,
                     float beta, DeviceBuffer c, DataType cType, int ldc) {
        try (Arena arena = Arena.ofConfined()) {
            check(cublas_h.cublasGemmEx(handle(), transA.code, transB.code, m, n, k,
                    arena.allocateFrom(ValueLayout.JAVA_FLOAT, alpha), address(a), aType.code, lda,
                    address(b), bType.code, ldb,
                    arena.allocateFrom(ValueLayout.JAVA_FLOAT, beta), address(c), cType.code, ldc,
                    cublas_h.CUBLAS_COMPUTE_32F(), cublas_h.CUBLAS_GEMM_DEFAULT()), "cublasGemmEx");
        }
    }

    /** cublasGemmStridedBatchedEx with FP32 compute: {@code batch} independent {@link #gemm}s at fixed element strides. */
    public void gemmStridedBatched(Operation transA, Operation transB, int m, int n, int k,
                                   float alpha, DeviceBuffer a, DataType aType, int lda, long strideA,
                                   DeviceBuffer b, DataType bType, int ldb, long strideB,
                                   float beta, DeviceBuffer c, DataType cType, int ldc, long strideC, int batch) {
        try (Arena arena = Arena.ofConfined()) {
            check(cublas_h.cublasGemmStridedBatchedEx(handle(), transA.code, transB.code, m, n, k,
                    arena.allocateFrom(ValueLayout.JAVA_FLOAT, alpha), address(a), aType.code, lda, strideA,
                    address(b), bType.code, ldb, strideB,
                    arena.allocateFrom(ValueLayout.JAVA_FLOAT, beta), address(c), cType.code, ldc, strideC, batch,
                    cublas_h.CUBLAS_COMPUTE_32F(), cublas_h.CUBLAS_GEMM_DEFAULT()), "cublasGemmStridedBatchedEx");
        }
    }

    /**
     * Row-major {@code out[tokens][outFeatures] = activations[tokens][inFeatures] · weights[outFeatures][inFeatures]ᵀ}
     * with activations and weights of {@code inputType} and FP32 output. In cuBLAS's column-major
     * terms that is {@code outᵀ = weights · activationsᵀ}: weights transposed, activations as stored.
     */
    public void linear(DeviceBuffer activations, DeviceBuffer weights, DeviceBuffer out, DataType inputType,
                       int tokens, int outFeatures, int inFeatures) {
        activations.requireAtLeast((long) tokens * inFeatures * inputType.bytes, "activations");
        weights.requireAtLeast((long) outFeatures * inFeatures * inputType.bytes, "weights");
        out.requireAtLeast((long) tokens * outFeatures * 4, "out");
        gemm(Operation.T, Operation.N, outFeatures, tokens, inFeatures,
                1f, weights, inputType, inFeatures, activations, inputType, inFeatures,
                0f, out, DataType.F32, outFeatures);
    }

    private static MemorySegment address(DeviceBuffer buffer) {
        return MemorySegment.ofAddress(buffer.address());
    }

    private MemorySegment handle() {
        if (closed) {
            throw new IllegalStateException("cuBLAS handle already destroyed");
        }
        return handle;
    }

    private static void check(int status, String call) {
        if (status != cublas_h.CUBLAS_STATUS_SUCCESS()) {
            String name = cublas_h.cublasGetStatusName(status).reinterpret(256).getString(0);
            String text = cublas_h.cublasGetStatusString(status).reinterpret(512).getString(0);
            throw new CublasException(status, call + " failed: " + name + " (" + status + "): " + text);
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            check(cublas_h.cublasDestroy_v2(handle), "cublasDestroy");
        }
    }
}
