package io.panllm.runtime.cuda;

import io.panllm.kernels.CudaContext;
import io.panllm.kernels.DecodeKernels;
import io.panllm.kernels.Dp4aGemv;
import io.panllm.kernels.GemvKernels;
import io.panllm.kernels.LayerKernels;

/** The loaded PTX modules a decode step launches from; loaded once per backend. */
record CudaKernels(GemvKernels gemv, LayerKernels layer, DecodeKernels decode, Dp4aGemv dp4a) implements AutoCloseable {

    static CudaKernels load(CudaContext context) {
        GemvKernels gemv = new GemvKernels(context);
        LayerKernels layer = null;
        Dp4aGemv dp4a = null;
        try {
            layer = new LayerKernels(context);
            dp4a = new Dp4aGemv(context);
            return new CudaKernels(gemv, layer, new DecodeKernels(context), dp4a);
        } catch (RuntimeException e) {
            if (dp4a != null) {
                dp4a.close();
            }
            if (layer != null) {
                layer.close();
            }
            gemv.close();
            throw e;
        }
    }

    @Override
    public void close() {
        dp4a.close();
        decode.close();
        layer.close();
        gemv.close();
    }
}
