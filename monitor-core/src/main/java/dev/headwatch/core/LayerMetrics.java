package dev.headwatch.core;

import java.util.List;

/**
 * The heads of one layer on one sequence (METRICS.md items 12-13): each head's {@link HeadMetrics} with
 * {@code maxRedundancy} and {@code redundancyPartner} filled, and two symmetric {@code H x H} matrices.
 *
 * <ul>
 *   <li>{@code energyCorrelation[h][g] = <E^h, E^g>_F / (|E^h|_F |E^g|_F)} in {@code [-1, 1]}; 1 on the
 *       diagonal; NaN where either field is zero. {@code maxRedundancy} of head h is
 *       {@code max_{g != h} energyCorrelation[h][g]} and {@code redundancyPartner} that g (lowest index on
 *       ties); both NaN for a single head.</li>
 *   <li>{@code attentionJsd[h][g]} = mean over rows with {@code n_i >= 2} of the Jensen-Shannon divergence
 *       {@code H((A^h_i + A^g_i)/2) - (H(A^h_i) + H(A^g_i))/2} in nats, in {@code [0, ln 2]}; 0 on the
 *       diagonal; NaN when no row has two visible keys.</li>
 * </ul>
 * Immutable: the matrix accessors return copies.
 */
public final class LayerMetrics {

    private final List<HeadMetrics> heads;
    private final double[][] energyCorrelation;
    private final double[][] attentionJsd;

    LayerMetrics(List<HeadMetrics> heads, double[][] energyCorrelation, double[][] attentionJsd) {
        this.heads = List.copyOf(heads);
        this.energyCorrelation = copy(energyCorrelation);
        this.attentionJsd = copy(attentionJsd);
    }

    /** Per-head metrics in head order, with {@code maxRedundancy} and {@code redundancyPartner} set. */
    public List<HeadMetrics> heads() {
        return heads;
    }

    /** The number of heads H. */
    public int size() {
        return heads.size();
    }

    /** The {@code H x H} energy-correlation matrix (a copy). */
    public double[][] energyCorrelation() {
        return copy(energyCorrelation);
    }

    /** One entry of the energy-correlation matrix. */
    public double energyCorrelation(int h, int g) {
        return energyCorrelation[h][g];
    }

    /** The {@code H x H} attention Jensen-Shannon divergence matrix in nats (a copy). */
    public double[][] attentionJsd() {
        return copy(attentionJsd);
    }

    /** One entry of the attention Jensen-Shannon divergence matrix. */
    public double attentionJsd(int h, int g) {
        return attentionJsd[h][g];
    }

    private static double[][] copy(double[][] m) {
        double[][] out = new double[m.length][];
        for (int i = 0; i < m.length; i++) {
            out[i] = m[i].clone();
        }
        return out;
    }

    @Override
    public String toString() {
        return "LayerMetrics[" + heads.size() + " heads]";
    }
}
