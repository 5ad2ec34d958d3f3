package io.panllm.runtime.backend;

import io.panllm.runtime.model.ModelConfig;
import io.panllm.runtime.model.ModelWeights;

/**
 * Where the forward pass runs: the CPU, a GPU. A backend prepares a model's weights once (the
 * CPU wraps the mapped bytes; a GPU uploads them, possibly repacked) and from then on owns them
 * and every KV cache made for them.
 */
public interface Backend extends AutoCloseable {

    /** For logs and {@code LanguageModel.description()}, e.g. "cpu (16 threads)". */
    String name();

    /**
     * Makes the weights ready for this backend. The memory the views slice must stay valid until
     * the returned model is closed (a GPU backend may copy it and not care).
     *
     * @throws io.panllm.runtime.model.ModelException  if a tensor's type cannot be computed with here
     */
    BackendModel load(ModelWeights weights);

    /** Releases what the backend holds itself (threads, device context); models it loaded must be closed first. */
    @Override
    void close();

    /** Which positions of a batch the caller wants logits for. */
    enum Logits {
        /** Only after the last token (generation, chat). */
        LAST,
        /** After every token (perplexity, KL divergence). */
        ALL
    }

    /** A model whose weights are ready in a backend. */
    interface BackendModel extends AutoCloseable {

        ModelConfig config();

        /** A KV cache for one sequence with room for {@code capacity} positions, in the backend's memory. */
        KvCache newKvCache(int capacity);

        /**
         * Runs {@code tokens} at positions {@code startPosition, startPosition + 1, ...}: their keys
         * and values go into {@code cache} (which must already hold positions 0 to startPosition - 1;
         * anything after them is overwritten), and the logits wanted go to {@code sink} with the
         * token's index in {@code tokens}. The backend batches as it sees fit (a matrix-matrix
         * product over several tokens is where prompt processing gets its speed). Callers check
         * token ids and capacity first.
         */
        void forward(KvCache cache, int[] tokens, int startPosition, Logits wanted,
                io.panllm.runtime.Session.LogitsSink sink);

        /**
         * Runs {@code tokens} as {@link #forward} does and returns the argmax of the last logits
         * (greedy decoding); backends that can find it where the logits are override this.
         */
        default int forwardGreedy(KvCache cache, int[] tokens, int startPosition) {
            int[] best = new int[1];
            forward(cache, tokens, startPosition, Logits.LAST, (index, logits) -> best[0] = io.panllm.runtime.Argmax.of(logits));
            return best[0];
        }

        /**
         * One decode step for several sequences at once: sequence i takes {@code tokens[i]} at
         * position {@code positions[i]} of {@code caches[i]} (each cache holds that sequence's
         * positions 0 to positions[i] - 1; lengths may differ), and its logits go to {@code sink}
         * with index i. Backends that can read each weight once for the whole batch (a small GEMM
         * instead of B GEMVs) override this; the default runs the sequences one after another.
         * The caches must be distinct and made by this model; callers check ids and capacity.
         */
        default void decodeBatch(KvCache[] caches, int[] tokens, int[] positions, io.panllm.runtime.Session.LogitsSink sink) {
            for (int i = 0; i < caches.length; i++) {
                int sequence = i;
                forward(caches[i], new int[] {tokens[i]}, positions[i], Logits.LAST,
                        (index, logits) -> sink.accept(sequence, logits));
            }
        }

        /**
         * {@link #decodeBatch} returning the argmax of each sequence's logits (greedy decoding);
         * backends that can find them where the logits are override this.
         */
        default int[] decodeBatchGreedy(KvCache[] caches, int[] tokens, int[] positions) {
            int[] next = new int[caches.length];
            decodeBatch(caches, tokens, positions, (i, logits) -> next[i] = io.panllm.runtime.Argmax.of(logits));
            return next;
        }

        /** Frees the backend's copy of the weights (nothing for the CPU). */
        @Override
        void close();
    }

    /** Keys and values of the positions a sequence has processed, in the memory of the backend that made it. */
    interface KvCache extends AutoCloseable {
        int capacity();

        @Override
        void close();
    }
}
