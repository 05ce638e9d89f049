package dev.headwatch.core;

import java.util.List;

/**
 * Computes the metrics of the heads of one layer on one sequence. The default is
 * {@link LayerAnalysis#compute(List)}; tests and special deployments may plug in another.
 */
@FunctionalInterface
public interface LayerAnalyzer {

    /**
     * The metrics of the heads (in the order of {@code heads}) and between them. A {@link Monitor} reuses the
     * heads' arrays at its next observation: an analyzer that keeps them beyond this call must copy them.
     */
    LayerMetrics analyze(List<HeadInput> heads);

    /** The metrics of METRICS.md, per head and per layer. */
    static LayerAnalyzer standard() {
        return LayerAnalysis.STANDARD;
    }
}
