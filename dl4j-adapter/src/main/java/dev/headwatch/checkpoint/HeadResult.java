package dev.headwatch.checkpoint;

import dev.headwatch.core.HeadMetrics;
import dev.headwatch.core.Visibility;
import dev.headwatch.core.WeightHeadMetrics;

/**
 * One head of one layer at one checkpoint.
 *
 * @param head    the head index
 * @param n       sequence length of the probe (0 without probe data)
 * @param d       head dimension
 * @param mask    visibility the head was measured under (FULL without probe data)
 * @param weights weight-only metrics, or null when the layer has no query/key projections
 * @param metrics data metrics aggregated over the probe sequences, or null without probe data
 * @param plots   fields and spectrum for the charts, or null when not kept
 */
public record HeadResult(int head, int n, int d, Visibility mask, WeightHeadMetrics weights, HeadMetrics metrics,
                         HeadPlots plots) {
    public HeadResult {
        if (mask == null) {
            throw new IllegalArgumentException("mask must not be null");
        }
    }

    /** This head without its plot data. */
    public HeadResult withoutPlots() {
        return plots == null ? this : new HeadResult(head, n, d, mask, weights, metrics, null);
    }
}
