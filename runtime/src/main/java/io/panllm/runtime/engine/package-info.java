/**
 * The batching engine that {@code panllm serve} drives: a fixed number of slots (one KV-cache
 * session each) sharing the model, a bounded queue in front of them, and one scheduler thread that
 * runs continuous batching: every step decodes one token for each running sequence in one
 * {@link io.panllm.runtime.LanguageModel#decodeBatch} call, then evaluates a bounded chunk of a
 * waiting prompt, so a long new prompt never stalls the running streams for more than one chunk.
 * No HTTP here: requests come in as token ids and leave as {@link io.panllm.runtime.engine.Event}s.
 */
package io.panllm.runtime.engine;
