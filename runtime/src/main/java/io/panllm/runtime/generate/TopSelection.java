package io.panllm.runtime.generate;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Picks the k largest of n values with a size-k min-heap: O(n log k) and no full sort, which is
 * what makes top-k cheap over a 128k vocabulary (most values fail the comparison with the heap's
 * root; once the heap is full they are compared a vector at a time).
 */
final class TopSelection {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = F.length();

    private TopSelection() {
    }

    /**
     * Writes the {@code k} largest of {@code values[0..n)} to {@code outValues} in descending order,
     * with their ids ({@code ids[i]}, or {@code i} when {@code ids} is null) in {@code outIds}.
     * NaN values are never selected.
     *
     * @return how many were written: {@code min(k, n)} less any NaNs
     */
    static int selectLargest(float[] values, int[] ids, int n, int k, int[] outIds, float[] outValues) {
        k = Math.min(k, n);
        if (k <= 0) {
            return 0;
        }
        // outValues/outIds[0..heapSize) form a min-heap on value: the root is the smallest kept.
        int heapSize = 0;
        int i = 0;
        while (i < n) {
            if (heapSize == k && i + LANES <= n) {
                // Once the heap is full, most values lose to its root: skip whole vectors that
                // hold none larger (NaN compares false, as below).
                FloatVector v = FloatVector.fromArray(F, values, i);
                if (!v.compare(VectorOperators.GT, outValues[0]).anyTrue()) {
                    i += LANES;
                    continue;
                }
            }
            int end = heapSize == k ? Math.min(n, i + LANES) : i + 1;
            for (; i < end; i++) {
                float value = values[i];
                if (Float.isNaN(value)) {
                    continue;
                }
                int id = ids == null ? i : ids[i];
                if (heapSize < k) {
                    siftUp(outValues, outIds, heapSize, value, id);
                    heapSize++;
                } else if (value > outValues[0]) {
                    siftDown(outValues, outIds, heapSize, value, id);
                }
            }
        }
        // Heap sort in place: repeatedly move the smallest to the end, giving descending order.
        for (int end = heapSize - 1; end > 0; end--) {
            float smallest = outValues[0];
            int smallestId = outIds[0];
            siftDown(outValues, outIds, end, outValues[end], outIds[end]);
            outValues[end] = smallest;
            outIds[end] = smallestId;
        }
        return heapSize;
    }

    /** Inserts (value, id) at slot {@code index} and restores the heap above it. */
    private static void siftUp(float[] heap, int[] heapIds, int index, float value, int id) {
        while (index > 0) {
            int parent = (index - 1) / 2;
            if (heap[parent] <= value) {
                break;
            }
            heap[index] = heap[parent];
            heapIds[index] = heapIds[parent];
            index = parent;
        }
        heap[index] = value;
        heapIds[index] = id;
    }

    /** Replaces the root of the heap of {@code size} entries by (value, id) and restores the heap. */
    private static void siftDown(float[] heap, int[] heapIds, int size, float value, int id) {
        int index = 0;
        while (true) {
            int child = 2 * index + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && heap[child + 1] < heap[child]) {
                child++;
            }
            if (heap[child] >= value) {
                break;
            }
            heap[index] = heap[child];
            heapIds[index] = heapIds[child];
            index = child;
        }
        heap[index] = value;
        heapIds[index] = id;
    }
}
