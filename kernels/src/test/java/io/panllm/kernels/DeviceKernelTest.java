package io.panllm.kernels;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every kernel against its CPU reference on GPU 0. Skipped, with the reason, where there is no
 * CUDA driver or device (CI): the same checks run on the GPU machine through {@link DeviceCheck}.
 */
class DeviceKernelTest {
    private static CudaContext context;
    private static KernelChecks checks;
    private static String unavailable;

    @BeforeAll
    static void openDevice() {
        try {
            context = CudaContext.open(0);
            long seed = System.nanoTime();
            System.out.println("DeviceKernelTest random seed " + seed);
            checks = new KernelChecks(context, new Random(seed));
        } catch (CudaUnavailableException e) {
            unavailable = e.getMessage();
        }
    }

    @AfterAll
    static void closeDevice() {
        if (checks != null) {
            checks.close();
        }
        if (context != null) {
            context.close();
        }
    }

    private static void assumeDevice() {
        assumeTrue(unavailable == null, () -> "no CUDA driver: " + unavailable);
    }

    private static void assertPassed(KernelChecks.Result result) {
        assertThat(result.relativeError())
                .as("%s %s: relative error against the CPU reference", result.name(), result.shape())
                .isLessThan(result.tolerance());
    }

    @ParameterizedTest
    @EnumSource(value = WeightFormat.class, names = {"Q4_0", "Q8_0", "IQ4_NL", "NF4", "Q4_K", "Q5_K"})
    void dp4aGemvMatchesItsReference(WeightFormat format) {
        assumeDevice();
        for (KernelChecks.Result result : DeviceCheck.dp4aChecks(checks, format)) {
            assertPassed(result);
        }
    }

    @Test
    void dp4aInt8GemvAndQuantizationMatchTheirReferences() {
        assumeDevice();
        for (KernelChecks.Result result : DeviceCheck.dp4aChecks(checks, null)) {
            assertPassed(result);
        }
        assertPassed(checks.quantizeActivations(4096));
        assertPassed(checks.quantizeActivations(96));
    }

    @ParameterizedTest
    @EnumSource(WeightFormat.class)
    void gemvMatchesReferenceAtAwkwardSizes(WeightFormat format) {
        assumeDevice();
        for (GemvKernels.Variant variant : GemvKernels.Variant.values()) {
            if (checks.gemvKernels().supports(format, variant)) {
                int unit = KernelChecks.columns(format, 1);
                assertPassed(checks.gemv(format, variant, 1, unit));
                assertPassed(checks.gemv(format, variant, 37, 3 * unit));
                assertPassed(checks.gemv(format, variant, 1031, KernelChecks.columns(format, 2144)));
                assertPassed(checks.gemv(format, variant, 67, KernelChecks.columns(format, 8224)));
            }
        }
    }

    @Test
    void int8GemvMatchesReferenceAtAwkwardSizes() {
        assumeDevice();
        assertPassed(checks.gemvInt8(1, 16));
        assertPassed(checks.gemvInt8(37, 48));
        assertPassed(checks.gemvInt8(1031, 2144));
        assertPassed(checks.gemvInt8(67, 8224));
        assertPassed(checks.gemvInt8(2051, 2048)); // the 1B shape, rows no multiple of 4
        assertPassed(checks.gemvInt8(39, 172));  // narrow kernel: stories260K's FFN width
        assertPassed(checks.gemvInt8(5, 4));
    }

    @ParameterizedTest
    @EnumSource(DecodeKernels.RowFormat.class)
    void embeddingRowMatchesReference(DecodeKernels.RowFormat format) {
        assumeDevice();
        assertPassed(checks.embed(format, 1031, 2080));
    }

    @Test
    void argmaxFindsTheCpuIndex() {
        assumeDevice();
        assertPassed(checks.argmax(128256));
        assertPassed(checks.argmax(7));
    }

    @Test
    void ropeAndKvStoreMatchReferenceAndWriteOnlyTheirRow() {
        assumeDevice();
        assertPassed(checks.ropeAndStore(new DecodeKernels.AttentionShape(32, 8, 64), 64, DecodeKernels.RopePairs.ADJACENT, 9, 5));
        assertPassed(checks.ropeAndStore(new DecodeKernels.AttentionShape(14, 2, 64), 32, DecodeKernels.RopePairs.HALVES, 4, 3));
    }

    @Test
    void rmsNormMatchesReference() {
        assumeDevice();
        assertPassed(checks.rmsNorm(1, 2048));
        assertPassed(checks.rmsNorm(3, 4100));
        assertPassed(checks.rmsNorm(2, 8196));
    }

    @Test
    void decodeRmsNormAndTheFusedResidualAddMatchReference() {
        assumeDevice();
        for (int n : new int[] {4, 260, 2048, 4096}) {
            assertPassed(checks.rmsNormRow(n, false));
            assertPassed(checks.rmsNormRow(n, true));
        }
    }

    @Test
    void swigluMatchesReference() {
        assumeDevice();
        assertPassed(checks.swiglu(14339));
    }

    @Test
    void residualAddMatchesReference() {
        assumeDevice();
        assertPassed(checks.add(4097));
    }

    @Test
    void ropeMatchesReferenceAtSmallAndLargePositions() {
        assumeDevice();
        assertPassed(checks.rope(32, 64, 17));
        assertPassed(checks.rope(8, 128, 100_003));
    }

    @Test
    void capturedGraphReplaysWithNewInputs() {
        assumeDevice();
        assertPassed(checks.graphReplay(WeightFormat.Q8_0, 517, 1024));
    }

    @Test
    void cublasLinearMatchesReference() {
        assumeDevice();
        assertPassed(checks.cublasLinear(Cublas.DataType.F16, 7, 300, 256));
        assertPassed(checks.cublasLinear(Cublas.DataType.BF16, 33, 129, 512));
    }
}
