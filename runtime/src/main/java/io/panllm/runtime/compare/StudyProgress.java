package io.panllm.runtime.compare;

/**
 * Where a comparison stands, told to its {@link CompareStudy.Listener} as it goes.
 *
 * @param index     0-based position of the format being measured among those to measure
 * @param count     formats to measure in this run (cached and not-runnable ones excluded)
 * @param format    its label
 * @param step      what it is doing: "convert", "perplexity", "kl-divergence", "bench"
 * @param detail    a short free text about the step ("chunk 2/4 PPL 70.93")
 * @param fraction  how much of this run's measuring is done, 0 to 1
 */
public record StudyProgress(int index, int count, String format, String step, String detail, double fraction) {
}
