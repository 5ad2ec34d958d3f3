package io.panllm.runtime.engine;

import io.panllm.runtime.LanguageModel;
import io.panllm.runtime.Session;
import io.panllm.runtime.generate.Sampler;
import io.panllm.runtime.generate.TokenizerTextStream;
import io.panllm.runtime.tokenizer.Tokenizer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Continuous batching over a fixed set of slots. One scheduler thread owns the model and every
 * session; each turn of its loop
 * <ol>
 *   <li>ends the cancelled requests and gives free slots to queued ones (so requests join the
 *       batch at step boundaries),</li>
 *   <li>decodes one token for every sequence past its prompt, all in one
 *       {@link LanguageModel#decodeBatch} call,</li>
 *   <li>evaluates at most {@link EngineConfig#prefillChunk()} tokens of waiting prompts, oldest
 *       request first, so a long prompt delays the running streams by one chunk per step, not by
 *       its whole length.</li>
 * </ol>
 * Each request has its own sampler (seed, penalties), text decoder and stop strings, so a
 * sequence's tokens do not depend on what else is in the batch.
 */
public final class Engine implements AutoCloseable {
    private final LanguageModel model;
    private final Tokenizer tokenizer;
    private final EngineConfig config;
    private final Slot[] slots;
    private final ArrayDeque<Job> queue = new ArrayDeque<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Thread scheduler;
    /** Guarded by lock: slots holding a job. */
    private int occupied;
    /** Guarded by lock. */
    private boolean accepting = true;
    /** Guarded by lock. */
    private boolean stopping;
    private long admissions;
    private boolean sessionsClosed;

    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong promptTokens = new AtomicLong();
    private final AtomicLong generatedTokens = new AtomicLong();
    private volatile int lastBatchSize;
    private volatile long kvUsed;
    private volatile double decodeTokensPerSecond;

    public Engine(LanguageModel model, Tokenizer tokenizer, EngineConfig config) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.config = config;
        this.slots = new Slot[config.slots()];
        try {
            for (int i = 0; i < slots.length; i++) {
                slots[i] = new Slot(model.newSession(config.slotContext()));
            }
        } catch (RuntimeException e) {
            closeSessions();
            throw e;
        }
        this.scheduler = Thread.ofPlatform().name("panllm-engine").daemon().unstarted(this::run);
        scheduler.start();
    }

    public EngineConfig config() {
        return config;
    }

    /**
     * Queues a request; its events arrive on the returned job.
     *
     * @throws IllegalArgumentException if the prompt does not fit in a slot's context
     * @throws EngineBusyException      if the queue is full or the engine is shutting down
     */
    public Job submit(GenerationRequest request) {
        if (request.minimumContext() > config.slotContext()) {
            throw new PromptTooLongException(request.prompt().length, config.slotContext());
        }
        Job job = new Job(request);
        lock.lock();
        try {
            if (!accepting) {
                throw new EngineBusyException("the server is shutting down", true);
            }
            if (queue.size() >= config.queueCapacity() + (slots.length - occupied)) {
                throw new EngineBusyException("all " + slots.length + " slots are busy and " + queue.size()
                        + " requests are waiting; try again later", false);
            }
            queue.add(job);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        return job;
    }

    public EngineStats stats() {
        int queued;
        int active;
        lock.lock();
        try {
            queued = queue.size();
            active = occupied;
        } finally {
            lock.unlock();
        }
        return new EngineStats(requests.get(), promptTokens.get(), generatedTokens.get(), queued, active,
                slots.length, lastBatchSize, kvUsed, (long) slots.length * config.slotContext(),
                decodeTokensPerSecond);
    }

    /**
     * Stops taking requests, fails the queued ones (as shutting down) and waits up to {@code
     * timeout} for the running ones to finish; those still running then are cancelled.
     * The engine is closed afterwards. The model is the caller's to close.
     */
    public void drainAndClose(Duration timeout) {
        List<Job> dropped;
        lock.lock();
        try {
            accepting = false;
            dropped = new ArrayList<>(queue);
            queue.clear();
            long deadline = System.nanoTime() + timeout.toNanos();
            for (Job job : dropped) {
                job.emit(new Event.Failed("the server is shutting down", true));
            }
            while (occupied > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                changed.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
        close();
    }

    /** Cancels everything still running, stops the scheduler and frees the sessions. */
    @Override
    public synchronized void close() {
        lock.lock();
        try {
            accepting = false;
            stopping = true;
            for (Job job : queue) {
                job.emit(new Event.Failed("the server is shutting down", true));
            }
            queue.clear();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            scheduler.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!scheduler.isAlive() && !sessionsClosed) {
            sessionsClosed = true; // close() may come again (drainAndClose, then the server's close): free once
            closeSessions();
        }
    }

    private void closeSessions() {
        for (Slot slot : slots) {
            if (slot != null) {
                slot.session.close();
            }
        }
    }

    // ---- the scheduler thread ----

    private void run() {
        while (true) {
            if (!admit()) {
                break;
            }
            try {
                decodeStep();
                prefillStep();
            } catch (RuntimeException | Error e) {
                failActive(e);
            }
            releaseFinished();
            long used = 0;
            for (Slot slot : slots) {
                used += slot.state == Slot.State.IDLE ? 0 : slot.session.position();
            }
            kvUsed = used;
        }
        for (Slot slot : slots) {
            if (slot.job != null && !slot.finished) {
                slot.job.emit(slot.job.cancelled() ? new Event.Finished(FinishReason.CANCELLED, "",
                        slot.job.request().prompt().length, slot.generated)
                        : new Event.Failed("the server is shutting down", true));
                slot.finished = true;
            }
        }
        releaseFinished();
    }

    /**
     * Ends cancelled jobs and fills free slots from the queue; waits while there is nothing to do.
     *
     * @return false when the engine is stopping
     */
    private boolean admit() {
        for (Slot slot : slots) {
            if (slot.job != null && slot.job.cancelled()) {
                finish(slot, FinishReason.CANCELLED);
            }
        }
        releaseFinished();
        lock.lock();
        try {
            // A cancelled request leaves the queue at once, so it holds no place there.
            queue.removeIf(job -> {
                if (job.cancelled()) {
                    job.emit(new Event.Finished(FinishReason.CANCELLED, "", job.request().prompt().length, 0));
                }
                return job.cancelled();
            });
            while (true) {
                if (stopping) {
                    return false;
                }
                for (Slot slot : slots) {
                    if (slot.job != null) {
                        continue;
                    }
                    Job job = nextQueued();
                    if (job == null) {
                        break;
                    }
                    start(slot, job);
                }
                if (occupied > 0) {
                    return true;
                }
                changed.await();
            }
        } catch (InterruptedException e) {
            return false;
        } finally {
            lock.unlock();
        }
    }

    /** The oldest queued job that is not cancelled (a cancelled one ends without taking a slot). */
    private Job nextQueued() {
        Job job;
        while ((job = queue.poll()) != null) {
            if (!job.cancelled()) {
                return job;
            }
            job.emit(new Event.Finished(FinishReason.CANCELLED, "", job.request().prompt().length, 0));
        }
        return null;
    }

    private void start(Slot slot, Job job) {
        GenerationRequest request = job.request();
        Sampler sampler = Sampler.create(request.sampler(), model.vocabSize());
        sampler.acceptAll(request.prompt());
        slot.start(job, sampler, new TokenizerTextStream(tokenizer), admissions++);
        occupied++;
        requests.incrementAndGet();
    }

    private void decodeStep() {
        List<Slot> batch = new ArrayList<>();
        for (Slot slot : slots) {
            if (slot.state == Slot.State.DECODE) {
                batch.add(slot);
            }
        }
        lastBatchSize = batch.size();
        if (batch.isEmpty()) {
            return;
        }
        List<Session> sessions = new ArrayList<>(batch.size());
        int[] tokens = new int[batch.size()];
        for (int i = 0; i < tokens.length; i++) {
            sessions.add(batch.get(i).session);
            tokens[i] = batch.get(i).pending;
        }
        long start = System.nanoTime();
        model.decodeBatch(sessions, tokens, (i, logits) -> sampleNext(batch.get(i), logits));
        long nanos = System.nanoTime() - start;
        decodeTokensPerSecond = nanos <= 0 ? 0 : batch.size() * 1e9 / nanos;
    }

    private void prefillStep() {
        List<Slot> waiting = new ArrayList<>();
        for (Slot slot : slots) {
            if (slot.state == Slot.State.PREFILL) {
                waiting.add(slot);
            }
        }
        waiting.sort(Comparator.comparingLong(s -> s.admittedAt));
        int budget = config.prefillChunk();
        for (Slot slot : waiting) {
            if (budget == 0) {
                break;
            }
            int n = Math.min(budget, slot.remainingPrompt());
            prefill(slot, n);
            budget -= n;
        }
    }

    /** Evaluates the next {@code n} prompt tokens of the slot; after the last one, samples the first token. */
    private void prefill(Slot slot, int n) {
        int[] prompt = slot.job.request().prompt();
        int from = slot.prefilled;
        int[] chunk = Arrays.copyOfRange(prompt, from, from + n);
        boolean last = from + n == prompt.length;
        float[] logits;
        if (slot.promptLogprobs != null) {
            if (from == 0) {
                slot.promptLogprobs.add(new TokenLogprob(prompt[0], Float.NaN, List.of()));
            }
            float[][] lastLogits = new float[1][];
            int top = Math.max(1, slot.job.request().logprobs());
            slot.session.forward(chunk, (i, row) -> {
                int predicted = from + i + 1;
                if (predicted < prompt.length) {
                    slot.promptLogprobs.add(Logprobs.of(row, prompt[predicted], top));
                } else {
                    lastLogits[0] = row.clone();
                }
            });
            logits = lastLogits[0];
        } else {
            logits = slot.session.forward(chunk);
        }
        slot.prefilled += n;
        promptTokens.addAndGet(n);
        if (!last) {
            return;
        }
        if (slot.promptLogprobs != null) {
            slot.job.emit(new Event.PromptLogprobs(slot.promptLogprobs));
        }
        if (slot.job.request().maxTokens() == 0) {
            finish(slot, FinishReason.LENGTH);
        } else {
            sampleNext(slot, logits);
        }
    }

    /** Picks the slot's next token from {@code logits}, reports it and decides whether to go on. */
    private void sampleNext(Slot slot, float[] logits) {
        GenerationRequest request = slot.job.request();
        int token = slot.sampler.sample(logits);
        slot.sampler.accept(token);
        if (request.stopTokens().contains(token)) {
            finish(slot, FinishReason.STOP);
            return;
        }
        TokenLogprob logprob = request.logprobs() >= 0 ? Logprobs.of(logits, token, request.logprobs()) : null;
        slot.generated++;
        generatedTokens.incrementAndGet();
        String released = slot.stops.accept(slot.text.next(token));
        slot.job.emit(new Event.Token(token, released, logprob));
        if (slot.stops.stopped()) {
            finish(slot, FinishReason.STOP);
        } else if (request.maxTokens() >= 0 && slot.generated >= request.maxTokens()) {
            finish(slot, FinishReason.LENGTH);
        } else if (slot.session.position() >= slot.session.capacity()) {
            finish(slot, FinishReason.LENGTH);
        } else {
            slot.pending = token;
            slot.state = Slot.State.DECODE;
        }
    }

    /** Reports the end of the slot's job; the slot is freed after the step ({@link #releaseFinished}). */
    private void finish(Slot slot, FinishReason reason) {
        if (slot.finished) {
            return;
        }
        String trailing = "";
        if (reason != FinishReason.CANCELLED && !slot.stops.stopped()) {
            trailing = slot.stops.accept(slot.text.finish());
            trailing += slot.stops.stopped() ? "" : slot.stops.flush();
        }
        slot.job.emit(new Event.Finished(reason, trailing, slot.job.request().prompt().length, slot.generated));
        slot.finished = true;
        slot.state = Slot.State.IDLE;
    }

    /** A backend failure ends every running job with its message; the engine goes on with the next ones. */
    private void failActive(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        for (Slot slot : slots) {
            if (slot.job != null && !slot.finished) {
                slot.job.emit(new Event.Failed(message, false));
                slot.finished = true;
                slot.state = Slot.State.IDLE;
            }
        }
    }

    private void releaseFinished() {
        boolean any = false;
        for (Slot slot : slots) {
            if (slot.job != null && slot.finished) {
                slot.release();
                any = true;
            }
        }
        if (!any) {
            return;
        }
        lock.lock();
        try {
            occupied = 0;
            for (Slot slot : slots) {
                occupied += slot.job != null ? 1 : 0;
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
