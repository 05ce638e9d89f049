package dev.headwatch.core;

import java.util.List;

/**
 * The weight-only metrics of one attention layer: per head {@link WeightHeadMetrics}, and
 * {@code qkOverlap[h][g] = (|U_h^T U_g|_F^2 + |R_h^T R_g|_F^2) / (2k)} in {@code [0, 1]} with U, R the
 * top-k left and right singular vectors of {@code M_h = tau Wq_h^T Wk_h}, {@code k = min(hs, nIn, 8)}:
 * 1 on the diagonal (for a nonzero form), near 1 for heads reading and writing the same input
 * directions; and each head's singular values of {@code M_h} (what {@code qkSpectralNorm} and
 * {@code qkStableRank} summarise). Immutable: the array accessors return copies.
 */
public final class WeightLayerMetrics {

    private final List<WeightHeadMetrics> heads;
    private final double[][] qkOverlap;
    private final double[][] singularValues;

    WeightLayerMetrics(List<WeightHeadMetrics> heads, double[][] qkOverlap, double[][] singularValues) {
        this.heads = List.copyOf(heads);
        this.qkOverlap = qkOverlap;
        this.singularValues = singularValues;
    }

    /** Per-head metrics in head order. */
    public List<WeightHeadMetrics> heads() {
        return heads;
    }

    /** The {@code H x H} subspace-overlap matrix (a copy). */
    public double[][] qkOverlap() {
        double[][] out = new double[qkOverlap.length][];
        for (int i = 0; i < out.length; i++) {
            out[i] = qkOverlap[i].clone();
        }
        return out;
    }

    /** One entry of the overlap matrix. */
    public double qkOverlap(int h, int g) {
        return qkOverlap[h][g];
    }

    /** The singular values of head h's {@code M_h}, descending, length {@code min(hs, nIn)} (a copy). */
    public double[] singularValues(int h) {
        return singularValues[h].clone();
    }
}
