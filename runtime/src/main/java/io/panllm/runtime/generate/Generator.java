package io.panllm.runtime.generate;

import io.panllm.runtime.ContextOverflowException;
import io.panllm.runtime.Session;
import java.util.Arrays;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The generation loop: evaluate the prompt as one batch, then sample a token, hand it to the
 * listener, evaluate it, and so on until a stop token, the token limit, a full context or a
 * cancellation. Cancellation is checked between tokens, so the session is always left at a known
 * position (see {@link GenerationResult}).
 */
public final class Generator {

    private final Sampler sampler;
    private final Supplier<? extends TextStream> textStreams;
    private volatile boolean cancelRequested;

    /**
     * @param sampler     picks the tokens; it is told about the prompt and every generated token,
     *                    so its repetition window carries over between calls
     * @param textStreams gives a fresh decoder for each generation, e.g.
     *                    {@code () -> new TokenizerTextStream(tokenizer)}
     */
    public Generator(Sampler sampler, Supplier<? extends TextStream> textStreams) {
        this.sampler = sampler;
        this.textStreams = textStreams;
    }

    /**
     * Asks the running {@link #generate} to stop after the token it is working on; callable from
     * any thread (a Ctrl-C handler). A request made while nothing runs is dropped by the next
     * generate, which starts afresh.
     */
    public void cancel() {
        cancelRequested = true;
    }

    /**
     * Generates a continuation of {@code prompt} at the session's current position.
     *
     * <p>The thread's interrupt flag also stops generation; it is left set for the caller.
     *
     * @throws ContextOverflowException if the prompt itself does not fit in the session (nothing
     *                                  is evaluated then); a context that fills up during
     *                                  generation ends it with {@link StopReason#CONTEXT_FULL}
     */
    public GenerationResult generate(Session session, int[] prompt, GenerationOptions options,
                                     TokenListener listener) {
        return generate(session, prompt, options, listener, () -> false);
    }

    /**
     * As {@link #generate(Session, int[], GenerationOptions, TokenListener)}, also stopping when
     * {@code cancelled} turns true (polled between tokens; a REPL's Ctrl-C flag).
     */
    public GenerationResult generate(Session session, int[] prompt, GenerationOptions options,
                                     TokenListener listener, BooleanSupplier cancelled) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt must hold at least one token");
        }
        if (session.position() + prompt.length > session.capacity()) {
            throw new ContextOverflowException(session.position(), prompt.length, session.capacity());
        }
        cancelRequested = false;
        sampler.acceptAll(prompt);
        TextStream textStream = textStreams.get();
        StringBuilder text = new StringBuilder();

        // Greedy decoding without penalties needs only the argmax, which the backend can find
        // where the logits are (a GPU then copies back one id per token, not the vocabulary).
        boolean argmaxOnly = sampler.config().isGreedy() && !sampler.config().penalizes();
        long promptStart = System.nanoTime();
        int next = argmaxOnly ? session.forwardGreedy(prompt) : sampler.sample(session.forward(prompt));
        long generationStart = System.nanoTime();

        int[] tokens = new int[16];
        int count = 0;
        StopReason reason = options.reachedLimit(0) ? StopReason.MAX_TOKENS : null;
        while (reason == null) {
            int token = next;
            sampler.accept(token);
            if (count == tokens.length) {
                tokens = Arrays.copyOf(tokens, count * 2);
            }
            tokens[count++] = token;
            if (options.isStop(token)) {
                reason = StopReason.STOP_TOKEN;
                break;
            }
            String piece = textStream.next(token);
            text.append(piece);
            listener.onToken(token, piece);
            reason = reasonToStopBeforeEvaluating(session, options, count, cancelled);
            if (reason == null) {
                int[] step = {token};
                next = argmaxOnly ? session.forwardGreedy(step) : sampler.sample(session.forward(step));
            }
        }
        String trailing = textStream.finish();
        if (!trailing.isEmpty()) {
            text.append(trailing);
            listener.onTrailingText(trailing);
        }
        long end = System.nanoTime();
        return new GenerationResult(Arrays.copyOf(tokens, count), text.toString(), reason, prompt.length,
                generationStart - promptStart, end - generationStart);
    }

    /** Why the token just sampled should not be evaluated, or null to go on. */
    private StopReason reasonToStopBeforeEvaluating(Session session, GenerationOptions options, int generated,
                                                    BooleanSupplier cancelled) {
        if (options.reachedLimit(generated)) {
            return StopReason.MAX_TOKENS;
        }
        if (cancelRequested || cancelled.getAsBoolean() || Thread.currentThread().isInterrupted()) {
            return StopReason.CANCELLED;
        }
        if (session.position() >= session.capacity()) {
            return StopReason.CONTEXT_FULL;
        }
        return null;
    }
}
