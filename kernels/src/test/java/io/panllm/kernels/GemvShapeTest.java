package io.panllm.kernels;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Sizes and launch shapes, which need no GPU. */
class GemvShapeTest {
    @Test
    void rowBytesFollowTheGgufBlocks() {
        assertThat(WeightFormat.Q4_0.rowBytes(2048)).isEqualTo(64 * 18);
        assertThat(WeightFormat.Q8_0.rowBytes(2048)).isEqualTo(64 * 34);
        assertThat(WeightFormat.F16.rowBytes(2048)).isEqualTo(4096);
        assertThat(WeightFormat.Q4_0.matrixBytes(128256, 2048)).isEqualTo(128256L * 1152);
    }

    @Test
    void columnsMustFillWholeBlocks() {
        assertThatThrownBy(() -> WeightFormat.Q4_0.rowBytes(100))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("multiple of 32");
        assertThatThrownBy(() -> WeightFormat.F16.rowBytes(12)).hasMessageContaining("multiple of 8");
    }

    @Test
    void launchShapesCoverEveryRow() {
        // v1: a CTA per row, a thread per chunk of 8 weights
        assertThat(GemvKernels.shape(37, 96, GemvKernels.Variant.ONE_ROW_PER_CTA, 256))
                .isEqualTo(LaunchShape.of(37, 32));
        // v2: 4 rows per CTA, 37 rows -> 10 CTAs; 2048 columns -> 128 threads
        assertThat(GemvKernels.shape(37, 2048, GemvKernels.Variant.FOUR_ROWS_PER_CTA, 256))
                .isEqualTo(LaunchShape.of(10, 128));
        assertThat(GemvKernels.shape(4096, 14336, GemvKernels.Variant.FOUR_ROWS_PER_CTA, 256))
                .isEqualTo(LaunchShape.of(1024, 256));
        // v4: 4 rows per warp, 4 warps per CTA -> 16 rows per CTA
        assertThat(GemvKernels.shape(128256, 2048, GemvKernels.Variant.FOUR_ROWS_PER_WARP, 256))
                .isEqualTo(LaunchShape.of(8016, 128));
        assertThat(GemvKernels.shape(17, 2048, GemvKernels.Variant.FOUR_ROWS_PER_WARP, 256))
                .isEqualTo(LaunchShape.of(2, 128));
    }

    @Test
    void defaultVariantsAreTheMeasuredFastest() {
        assertThat(GemvKernels.defaultVariant(WeightFormat.Q4_0, 128256, 2048))
                .isEqualTo(GemvKernels.Variant.FOUR_ROWS_PER_WARP_PIPELINED);
        assertThat(GemvKernels.defaultVariant(WeightFormat.Q4_0, 2048, 8192)).isEqualTo(GemvKernels.Variant.FOUR_ROWS_PER_CTA);
        assertThat(GemvKernels.defaultVariant(WeightFormat.Q8_0, 128256, 2048)).isEqualTo(GemvKernels.Variant.FOUR_ROWS_PER_CTA);
        assertThat(GemvKernels.defaultVariant(WeightFormat.F16, 2048, 2048)).isEqualTo(GemvKernels.Variant.ONE_ROW_PER_CTA);
        assertThat(GemvKernels.defaultVariant(WeightFormat.BF16, 128256, 2048)).isEqualTo(GemvKernels.Variant.ONE_ROW_PER_WARP);
        for (WeightFormat format : new WeightFormat[] {WeightFormat.IQ4_NL, WeightFormat.Q4_K, WeightFormat.Q5_K,
                WeightFormat.Q6_K, WeightFormat.NF4, WeightFormat.FP4}) {
            assertThat(GemvKernels.defaultVariant(format, 2048, 8192)).isEqualTo(GemvKernels.Variant.FOUR_ROWS_PER_CTA);
        }
        assertThat(GemvKernels.defaultVariant(WeightFormat.Q4_K, 128256, 2048)).isEqualTo(GemvKernels.Variant.FOUR_ROWS_PER_CTA);
        assertThat(GemvKernels.defaultVariant(WeightFormat.NF4, 2048, 2048)).isEqualTo(GemvKernels.Variant.ONE_ROW_PER_WARP);
        assertThat(GemvKernels.defaultVariant(WeightFormat.Q6_K, 4096, 14336)).isEqualTo(GemvKernels.Variant.ONE_ROW_PER_WARP);
        assertThat(GemvKernels.shape(37, 2048, GemvKernels.Variant.ONE_ROW_PER_WARP, 256))
                .isEqualTo(LaunchShape.of(10, 128));
    }

    @Test
    void badLaunchShapesAreRefused() {
        assertThatThrownBy(() -> LaunchShape.of(0, 128)).isInstanceOf(IllegalArgumentException.class);
    }
}
