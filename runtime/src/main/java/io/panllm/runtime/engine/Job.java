package io.panllm.runtime.engine;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A submitted request: the caller reads its {@link Event}s (the engine never waits for a reader,
 * so a slow client cannot stall the batch) and may cancel it from any thread.
 */
public final class Job {
    private final GenerationRequest request;
    private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private volatile boolean cancelled;

    Job(GenerationRequest request) {
        this.request = request;
    }

    public GenerationRequest request() {
        return request;
    }

    /** The next event, waiting for it. */
    public Event next() throws InterruptedException {
        return events.take();
    }

    /** The next event, or null if none comes within the timeout. */
    public Event next(long timeout, TimeUnit unit) throws InterruptedException {
        return events.poll(timeout, unit);
    }

    /**
     * Stops the request at the next step boundary (milliseconds) and frees its slot; the last event
     * is then {@link Event.Finished} with {@link FinishReason#CANCELLED}. Idempotent.
     */
    public void cancel() {
        cancelled = true;
    }

    public boolean cancelled() {
        return cancelled;
    }

    void emit(Event event) {
        events.add(event);
    }
}
