package io.panllm.runtime.engine;

import io.panllm.runtime.Session;
import io.panllm.runtime.generate.Sampler;
import io.panllm.runtime.generate.TextStream;
import java.util.ArrayList;
import java.util.List;

/** One sequence's place in the batch: its KV-cache session and the request it is working on. */
final class Slot {
    enum State { IDLE, PREFILL, DECODE }

    final Session session;
    State state = State.IDLE;
    Job job;
    Sampler sampler;
    TextStream text;
    StopStrings stops;
    /** Prompt tokens evaluated so far. */
    int prefilled;
    int generated;
    /** The last sampled token, fed at the next decode step. */
    int pending;
    /** When the slot was given its job: prompts are prefilled oldest first. */
    long admittedAt;
    /** The prompt's log-probabilities as they are computed (echo only). */
    List<TokenLogprob> promptLogprobs;
    /** Set when the job ended during a step; the slot is freed after the step. */
    boolean finished;

    Slot(Session session) {
        this.session = session;
    }

    void start(Job job, Sampler sampler, TextStream text, long admittedAt) {
        this.job = job;
        this.sampler = sampler;
        this.text = text;
        this.stops = new StopStrings(job.request().stopStrings());
        this.prefilled = 0;
        this.generated = 0;
        this.admittedAt = admittedAt;
        this.finished = false;
        this.promptLogprobs = job.request().echoLogprobs() ? new ArrayList<>() : null;
        this.state = State.PREFILL;
        session.rewind(0);
    }

    void release() {
        job = null;
        sampler = null;
        text = null;
        stops = null;
        promptLogprobs = null;
        finished = false;
        state = State.IDLE;
    }

    int remainingPrompt() {
        return job.request().prompt().length - prefilled;
    }
}
