/**
 * Chat prompt formats: {@link io.panllm.runtime.chat.ChatTemplate} renders a list of
 * {@link io.panllm.runtime.chat.ChatMessage}s as Llama 3, Llama 2 or ChatML prompt text (to be
 * tokenized with special-token parsing), incrementally for a chat that keeps its KV cache, and
 * names the tokens that end a turn.
 */
package io.panllm.runtime.chat;
