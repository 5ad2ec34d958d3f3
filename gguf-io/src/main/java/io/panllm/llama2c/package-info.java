/**
 * karpathy's llama2.c files: {@link io.panllm.llama2c.Llama2cCheckpoint} (legacy float32, version 1,
 * version 2 Q8 exports of export.py) and {@link io.panllm.llama2c.Llama2cTokenizer}
 * (tokenizer.bin). Both throw {@link io.panllm.llama2c.Llama2cException} for files they cannot read.
 */
package io.panllm.llama2c;
