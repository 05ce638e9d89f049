package dev.headwatch.checkpoint;

import java.util.List;

/**
 * One attention layer at one checkpoint. Matrices are {@code H x H}, null when not computed; the
 * data matrices are means over the probe sequences.
 *
 * @param layer             the layer or vertex name
 * @param kind              the layer kind (e.g. {@code SELF_ATTENTION})
 * @param heads             per head, in head order
 * @param qkOverlap         weight-only subspace overlap (METRICS.md), or null
 * @param energyCorrelation METRICS.md item 12, or null without probe data
 * @param attentionJsd      METRICS.md item 13 in nats, or null without probe data
 */
public record LayerResult(String layer, String kind, List<HeadResult> heads, double[][] qkOverlap,
                          double[][] energyCorrelation, double[][] attentionJsd) {
    public LayerResult {
        if (layer == null || kind == null || heads == null) {
            throw new IllegalArgumentException("layer, kind and heads must not be null");
        }
        heads = List.copyOf(heads);
    }

    /** This layer without per-head plot data. */
    public LayerResult withoutPlots() {
        return new LayerResult(layer, kind, heads.stream().map(HeadResult::withoutPlots).toList(), qkOverlap,
                energyCorrelation, attentionJsd);
    }
}
