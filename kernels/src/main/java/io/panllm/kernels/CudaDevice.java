package io.panllm.kernels;

import io.panllm.cuda.bindings.cuda_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One GPU as the driver sees it, with the properties that size kernel launches.
 *
 * @param ordinal            0-based device index
 * @param handle             the CUdevice
 * @param name               e.g. "NVIDIA H100 80GB HBM3"
 * @param computeMajor       compute capability, major (9 for Hopper)
 * @param computeMinor       compute capability, minor
 * @param multiprocessors    SM count
 * @param l2CacheBytes       L2 size: buffers smaller than this stay cached between launches
 * @param totalMemoryBytes   device memory
 */
public record CudaDevice(int ordinal, int handle, String name, int computeMajor, int computeMinor,
                         int multiprocessors, long l2CacheBytes, long totalMemoryBytes) {

    /** Number of CUDA devices; throws {@link CudaUnavailableException} where there is no driver or device. */
    public static int count() {
        Driver.initialize();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(ValueLayout.JAVA_INT);
            CudaException.check(cuda_h.cuDeviceGetCount(count), "cuDeviceGetCount");
            return count.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /** The device with this ordinal and its properties. */
    public static CudaDevice get(int ordinal) {
        int available = count();
        if (ordinal < 0 || ordinal >= available) {
            throw new CudaUnavailableException("no CUDA device " + ordinal + ": this machine has " + available);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(ValueLayout.JAVA_INT);
            CudaException.check(cuda_h.cuDeviceGet(value, ordinal), "cuDeviceGet");
            int handle = value.get(ValueLayout.JAVA_INT, 0);
            MemorySegment name = arena.allocate(256);
            CudaException.check(cuda_h.cuDeviceGetName(name, 256, handle), "cuDeviceGetName");
            MemorySegment total = arena.allocate(ValueLayout.JAVA_LONG);
            CudaException.check(cuda_h.cuDeviceTotalMem_v2(total, handle), "cuDeviceTotalMem");
            return new CudaDevice(ordinal, handle, name.getString(0),
                    attribute(handle, cuda_h.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR()),
                    attribute(handle, cuda_h.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR()),
                    attribute(handle, cuda_h.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT()),
                    attribute(handle, cuda_h.CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE()),
                    total.get(ValueLayout.JAVA_LONG, 0));
        }
    }

    /** cuDeviceGetAttribute for any CU_DEVICE_ATTRIBUTE_* constant. */
    public static int attribute(int deviceHandle, int attribute) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(ValueLayout.JAVA_INT);
            CudaException.check(cuda_h.cuDeviceGetAttribute(value, attribute, deviceHandle), "cuDeviceGetAttribute");
            return value.get(ValueLayout.JAVA_INT, 0);
        }
    }

    @Override
    public String toString() {
        return name + " (sm_" + computeMajor + computeMinor + ", " + multiprocessors + " SMs, "
                + (totalMemoryBytes >> 20) + " MiB, L2 " + (l2CacheBytes >> 20) + " MiB)";
    }

    /** Loads libcuda and runs cuInit once per process. */
    static final class Driver {
        private static boolean initialized;

        private Driver() {
        }

        static synchronized void initialize() {
            if (initialized) {
                return;
            }
            NativeLibraries.loadDriver();
            int result = cuda_h.cuInit(0);
            if (result != cuda_h.CUDA_SUCCESS()) {
                // cuInit fails on machines with the library but no usable GPU (no device, driver mismatch).
                throw new CudaUnavailableException("no CUDA device usable: cuInit failed: " + CudaException.describe(result));
            }
            initialized = true;
        }
    }
}
