/** Hugging Face model metadata: {@link io.panllm.hf.HfConfig} reads config.json. */
package io.panllm.hf;
