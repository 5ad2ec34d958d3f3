package io.panllm.runtime.eval;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * log softmax pieces computed as llama.cpp's perplexity tool does: exponentials in float, their
 * sum in double. The exponentials use the Vector API: over a 128k vocabulary they are what an
 * evaluation spends its time on besides the forward pass (a GPU forward pass of a chunk takes less
 * than the scalar exponentials of its scored rows would).
 */
final class LogSoftmax {

    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    private LogSoftmax() {
    }

    /** Index of the largest logit (the first one on ties). */
    static int argmax(float[] logits) {
        float max = max(logits);
        int index = 0;
        while (logits[index] != max) {
            index++;
        }
        return index;
    }

    /**
     * The largest value.
     *
     * @throws IllegalStateException if there is a NaN (it would poison every figure downstream)
     */
    static float max(float[] values) {
        FloatVector largest = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (int bound = SPECIES.loopBound(values.length); i < bound; i += SPECIES.length()) {
            largest = largest.max(FloatVector.fromArray(SPECIES, values, i));
        }
        float max = largest.reduceLanes(VectorOperators.MAX);
        for (; i < values.length; i++) {
            max = Math.max(max, values[i]);
        }
        if (Float.isNaN(max)) {
            throw io.panllm.runtime.model.ModelException.nanLogits();
        }
        return max;
    }

    static float min(float[] values) {
        FloatVector smallest = FloatVector.broadcast(SPECIES, Float.POSITIVE_INFINITY);
        int i = 0;
        for (int bound = SPECIES.loopBound(values.length); i < bound; i += SPECIES.length()) {
            smallest = smallest.min(FloatVector.fromArray(SPECIES, values, i));
        }
        float min = smallest.reduceLanes(VectorOperators.MIN);
        for (; i < values.length; i++) {
            min = Math.min(min, values[i]);
        }
        return min;
    }

    /** Sum of exp(logit - max) over the vocabulary. */
    static double sumExp(float[] logits, float max) {
        double sum = 0;
        int i = 0;
        for (int bound = SPECIES.loopBound(logits.length); i < bound; i += SPECIES.length()) {
            FloatVector exps = FloatVector.fromArray(SPECIES, logits, i).sub(max).lanewise(VectorOperators.EXP);
            sum += exps.reduceLanes(VectorOperators.ADD);
        }
        for (; i < logits.length; i++) {
            sum += (float) Math.exp(logits[i] - max);
        }
        return sum;
    }

    /** -log softmax(logits)[token], the negative log-likelihood of {@code token}. */
    static double negativeLogLikelihood(float[] logits, int token) {
        float max = max(logits);
        return -((logits[token] - max) - Math.log(sumExp(logits, max)));
    }
}
