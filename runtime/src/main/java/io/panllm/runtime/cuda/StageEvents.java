package io.panllm.runtime.cuda;

import io.panllm.kernels.CudaContext;
import io.panllm.kernels.CudaEvent;
import io.panllm.kernels.CudaStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Stage marks that record a CUDA event after each stage (inside a graph capture: event-record
 * nodes), so that the device time between consecutive events can be summed per stage.
 */
final class StageEvents implements StageMarks, AutoCloseable {
    private final CudaContext context;
    private final List<CudaEvent> events = new ArrayList<>();
    private final List<String> stages = new ArrayList<>();
    private CudaStream stream;

    StageEvents(CudaContext context) {
        this.context = context;
    }

    /** Records the starting event on {@code stream}; the stages' events go on it too. */
    void start(CudaStream stream) {
        this.stream = stream;
        events.forEach(CudaEvent::close);
        events.clear();
        stages.clear();
        record();
    }

    @Override
    public void after(String stage) {
        stages.add(stage);
        record();
    }

    private void record() {
        CudaEvent event = context.createEvent();
        events.add(event);
        event.record(stream);
    }

    /** Milliseconds per stage name, summed over its occurrences, in the order stages first ran. */
    Map<String, Double> millisByStage() {
        Map<String, Double> millis = new LinkedHashMap<>();
        for (int i = 0; i < stages.size(); i++) {
            millis.merge(stages.get(i), (double) events.get(i + 1).millisSince(events.get(i)), Double::sum);
        }
        return millis;
    }

    @Override
    public void close() {
        events.forEach(CudaEvent::close);
        events.clear();
    }
}
