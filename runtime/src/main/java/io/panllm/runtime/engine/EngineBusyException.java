package io.panllm.runtime.engine;

/** Every slot is busy and the queue is full (or the engine is draining): try again later. */
public final class EngineBusyException extends RuntimeException {
    private final boolean shuttingDown;

    public EngineBusyException(String message, boolean shuttingDown) {
        super(message);
        this.shuttingDown = shuttingDown;
    }

    /** True when the engine no longer takes requests at all (it is draining to shut down). */
    public boolean shuttingDown() {
        return shuttingDown;
    }
}
