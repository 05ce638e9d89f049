package dev.headwatch.core;

import java.time.Instant;
import java.util.List;

/**
 * Everything measured at one training step: one {@link HeadRecord} per observed head.
 *
 * @param step  the iteration count
 * @param epoch the epoch count
 * @param time  when the observation was taken (from the injected clock)
 * @param loss  the training loss of the last iteration completed when the step was observed (the same
 *              iteration for SameDiff, the one before for a DL4J network, whose heads are read during the
 *              forward pass); NaN when unknown (checkpoints, a first iteration)
 * @param heads the per-head records, in layer then head order
 */
public record Observation(long step, int epoch, Instant time, double loss, List<HeadRecord> heads) {
    public Observation {
        if (time == null || heads == null) {
            throw new IllegalArgumentException("time and heads must not be null");
        }
        heads = List.copyOf(heads);
    }

    /** An observation whose training loss is unknown. */
    public Observation(long step, int epoch, Instant time, List<HeadRecord> heads) {
        this(step, epoch, time, Double.NaN, heads);
    }
}
