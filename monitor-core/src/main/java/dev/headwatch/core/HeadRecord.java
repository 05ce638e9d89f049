package dev.headwatch.core;

/**
 * One head's metrics within an {@link Observation}.
 *
 * @param layer   the layer or vertex name (or its index as text)
 * @param head    the head index within the layer
 * @param n       the sequence length (rows of Q)
 * @param d       the head dimension
 * @param mask    the visibility the head was measured under
 * @param metrics the metrics (aggregated over the sampled sequences)
 */
public record HeadRecord(String layer, int head, int n, int d, Visibility mask, HeadMetrics metrics) {
    public HeadRecord {
        if (layer == null || mask == null || metrics == null) {
            throw new IllegalArgumentException("layer, mask and metrics must not be null");
        }
    }
}
