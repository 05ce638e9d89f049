package dev.headwatch.core;

import java.time.Instant;
import java.util.List;

/**
 * Everything measured at one training step: one {@link HeadRecord} per observed head.
 *
 * @param step  the iteration count
 * @param epoch the epoch count
 * @param time  when the observation was taken (from the injected clock)
 * @param heads the per-head records, in layer then head order
 */
public record Observation(long step, int epoch, Instant time, List<HeadRecord> heads) {
    public Observation {
        if (time == null || heads == null) {
            throw new IllegalArgumentException("time and heads must not be null");
        }
        heads = List.copyOf(heads);
    }
}
