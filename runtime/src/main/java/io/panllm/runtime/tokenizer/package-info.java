/**
 * Tokenizers for Llama-family models.
 *
 * <p>{@link io.panllm.runtime.tokenizer.Tokenizers} builds a
 * {@link io.panllm.runtime.tokenizer.Tokenizer} from GGUF metadata, a Hugging Face
 * tokenizer.json or a llama2.c tokenizer.bin; each goes through a
 * {@link io.panllm.runtime.tokenizer.Vocabulary}, which
 * {@link io.panllm.runtime.tokenizer.GgufTokenizerMetadata} also writes back as GGUF keys.
 * Two algorithms, both following llama.cpp: SentencePiece (score-ordered bigram merges with
 * byte fallback) and byte-level BPE (Llama 3 / GPT-2 pre-tokenizer, rank-ordered merges).
 * {@link io.panllm.runtime.tokenizer.StreamingDecoder} turns generated tokens into text as they
 * come.
 */
package io.panllm.runtime.tokenizer;
