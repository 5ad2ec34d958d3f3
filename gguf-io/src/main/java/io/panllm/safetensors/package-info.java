/**
 * safetensors files and Hugging Face checkpoints.
 *
 * <ul>
 *   <li>{@link io.panllm.safetensors.SafetensorsFile}: one file, memory-mapped, its header checked
 *       (every problem a {@link io.panllm.safetensors.SafetensorsException} naming file and offset),
 *       each tensor a zero-copy {@link io.panllm.safetensors.SafetensorsTensor}.
 *   <li>{@link io.panllm.safetensors.SafetensorsCheckpoint}: a directory (sharded through
 *       model.safetensors.index.json, or model.safetensors) as one name-to-tensor view.
 *   <li>{@link io.panllm.safetensors.SafetensorsWriter}: streaming writer, the reference writer's
 *       layout, atomic rename.
 *   <li>{@link io.panllm.safetensors.BnbTensors}: bitsandbytes NF4/FP4/LLM.int8 Linear weights, read
 *       and written in transformers' key layout.
 * </ul>
 *
 * Shapes are in PyTorch order (outermost first); GGUF's order is the reverse
 * ({@link io.panllm.safetensors.SafetensorsTensor#ggmlShape()}).
 */
package io.panllm.safetensors;
