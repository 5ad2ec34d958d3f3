package io.panllm.runtime.generate;

/**
 * Nucleus (top-p) filtering: keeps the most likely candidates, best first, until their softmax
 * probability reaches p (the one that crosses p included), as llama.cpp's top-p sampler does.
 *
 * <p>Sorted candidates (after top-k) are walked directly. Unsorted ones (top-k disabled: the whole
 * 128k vocabulary) are not sorted: one pass spreads them into buckets by logit and sums each
 * bucket's probability mass, which tells which buckets lie wholly inside the nucleus and which one
 * it ends in; only that boundary bucket is sorted.
 */
final class TopP {

    private static final int BUCKETS = 1024;
    /**
     * Logits more than this far below the best share the last bucket: their probability
     * (below e^-60 each) could only matter with p within ~1e-21 of the total.
     */
    private static final float BUCKET_RANGE_NATS = 60;

    private TopP() {
    }

    static void apply(Candidates candidates, float p) {
        if (p >= 1.0f || candidates.size <= 1) {
            return;
        }
        float max = candidates.maxLogit();
        if (candidates.sorted) {
            double target = p * candidates.sumExp(max);
            int nucleus = prefixReaching(candidates.logits, candidates.size, max, target, 0);
            if (nucleus > 0) {
                candidates.size = nucleus;
            }
        } else {
            applyByBuckets(candidates, max, p);
        }
    }

    /**
     * Length of the shortest prefix of the descending {@code logits[0..n)} whose mass
     * sum(exp(logit - max)) added to {@code massBefore} reaches {@code target}; -1 if none does
     * (rounding can leave the whole set a hair short of p * total).
     */
    private static int prefixReaching(float[] logits, int n, float max, double target, double massBefore) {
        double cumulative = massBefore;
        for (int i = 0; i < n; i++) {
            cumulative += Math.exp(logits[i] - max);
            if (cumulative >= target) {
                return i + 1;
            }
        }
        return -1;
    }

    private static void applyByBuckets(Candidates candidates, float max, float p) {
        int n = candidates.size;
        float lowest = max;
        for (int i = 0; i < n; i++) {
            lowest = Math.min(lowest, candidates.logits[i]);
        }
        lowest = Math.max(lowest, max - BUCKET_RANGE_NATS);
        // Bucket 0 holds the highest logits; the bucket of a logit never decreases as it decreases.
        float bucketsPerNat = lowest < max ? (BUCKETS - 1) / (max - lowest) : 0;

        double[] bucketMass = new double[BUCKETS];
        int[] bucketSize = new int[BUCKETS];
        double total = 0;
        for (int i = 0; i < n; i++) {
            double weight = Math.exp(candidates.logits[i] - max);
            int bucket = bucket(candidates.logits[i], max, bucketsPerNat);
            bucketMass[bucket] += weight;
            bucketSize[bucket]++;
            total += weight;
        }
        double target = p * total;
        int boundary = 0;
        double massAbove = 0;
        while (boundary < BUCKETS - 1 && massAbove + bucketMass[boundary] < target) {
            massAbove += bucketMass[boundary];
            boundary++;
        }

        // Move the buckets above the boundary to the front; set the boundary bucket aside.
        int kept = 0;
        int boundaryCount = 0;
        int[] boundaryIds = new int[bucketSize[boundary]];
        float[] boundaryLogits = new float[bucketSize[boundary]];
        for (int i = 0; i < n; i++) {
            int bucket = bucket(candidates.logits[i], max, bucketsPerNat);
            if (bucket < boundary) {
                candidates.ids[kept] = candidates.ids[i];
                candidates.logits[kept] = candidates.logits[i];
                kept++;
            } else if (bucket == boundary) {
                boundaryIds[boundaryCount] = candidates.ids[i];
                boundaryLogits[boundaryCount] = candidates.logits[i];
                boundaryCount++;
            }
        }
        // Sort the boundary bucket, best first, and take what the nucleus still needs.
        int[] sortedIds = new int[boundaryCount];
        float[] sortedLogits = new float[boundaryCount];
        TopSelection.selectLargest(boundaryLogits, boundaryIds, boundaryCount, boundaryCount, sortedIds,
                sortedLogits);
        int needed = prefixReaching(sortedLogits, boundaryCount, max, target, massAbove);
        int taken = needed > 0 ? needed : boundaryCount;
        System.arraycopy(sortedIds, 0, candidates.ids, kept, taken);
        System.arraycopy(sortedLogits, 0, candidates.logits, kept, taken);
        candidates.size = kept + taken;
        candidates.sorted = false;
    }

    private static int bucket(float logit, float max, float bucketsPerNat) {
        return (int) Math.min(BUCKETS - 1, (max - logit) * bucketsPerNat);
    }
}
