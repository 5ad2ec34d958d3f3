package io.panllm.runtime.cuda;

/** Told when a stage of a decode step has been enqueued (for profiling; normally does nothing). */
interface StageMarks {
    StageMarks NONE = stage -> { };

    void after(String stage);
}
