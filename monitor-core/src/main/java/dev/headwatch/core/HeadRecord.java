package dev.headwatch.core;

/**
 * One head's metrics within an {@link Observation}.
 *
 * @param layer          the layer or vertex name (or its index as text)
 * @param head           the head index within the layer
 * @param n              the sequence length (rows of Q)
 * @param d              the head dimension
 * @param mask           the visibility the head was measured under
 * @param metrics        the metrics (aggregated over the sampled sequences)
 * @param qkSpectralNorm the head's weight-only {@code qkSpectralNorm} (METRICS.md, weight-only metrics)
 *                       when the adapter computed it, else NaN; the alert engine watches its growth
 * @param nonFiniteInput whether the adapter saw NaN or infinity in this head's Q, K or V
 */
public record HeadRecord(String layer, int head, int n, int d, Visibility mask, HeadMetrics metrics,
                         double qkSpectralNorm, boolean nonFiniteInput) {
    public HeadRecord {
        if (layer == null || mask == null || metrics == null) {
            throw new IllegalArgumentException("layer, mask and metrics must not be null");
        }
    }

    /** A record without weight metrics and with finite inputs. */
    public HeadRecord(String layer, int head, int n, int d, Visibility mask, HeadMetrics metrics) {
        this(layer, head, n, d, mask, metrics, Double.NaN, false);
    }
}
