package io.panllm.runtime.cuda;

import io.panllm.kernels.CudaContext;
import io.panllm.kernels.DecodeKernels;
import io.panllm.kernels.GemvKernels;
import io.panllm.kernels.LayerKernels;

/** The loaded PTX modules a decode step launches from; loaded once per backend. */
record CudaKernels(GemvKernels gemv, LayerKernels layer, DecodeKernels decode) implements AutoCloseable {

    static CudaKernels load(CudaContext context) {
        GemvKernels gemv = new GemvKernels(context);
        LayerKernels layer = null;
        try {
            layer = new LayerKernels(context);
            return new CudaKernels(gemv, layer, new DecodeKernels(context));
        } catch (RuntimeException e) {
            if (layer != null) {
                layer.close();
            }
            gemv.close();
            throw e;
        }
    }

    @Override
    public void close() {
        decode.close();
        layer.close();
        gemv.close();
    }
}
