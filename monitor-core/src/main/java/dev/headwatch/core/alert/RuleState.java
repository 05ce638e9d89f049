package dev.headwatch.core.alert;

import java.time.Instant;

/** One rule's state on one head: the persistence counters, whether it fires, and the rule's memory. */
final class RuleState {
    int held;
    int cleared;
    boolean firing;
    long firedStep;
    Instant firedAt;
    Rule.Check last;

    /** The running median of a relative rule, created on first use. */
    RunningMedian median;
    /** SINK_SHIFT: whether the first observation's sink was recorded, and its position (NaN: none). */
    boolean baselineSeen;
    double baselineSink = Double.NaN;
    /** LOGIT_GROWTH: observations seen, so the qkSpectralNorm baseline leaves out the warm-up's fast growth. */
    int seen;

    RunningMedian median(int window) {
        if (median == null) {
            median = new RunningMedian(window);
        }
        return median;
    }
}
