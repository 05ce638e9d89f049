package dev.headwatch.core;

import dev.headwatch.core.math.Entropy;
import dev.headwatch.core.math.Redundancy;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Every metric of the heads of one layer on the same sequence: the per-head metrics of
 * {@link HeadAnalysis} plus energy correlation and attention divergence between heads
 * (METRICS.md items 12-13, see {@link LayerMetrics}).
 */
public final class LayerAnalysis {

    private LayerAnalysis() {
    }

    /**
     * Measures the heads of one layer. All heads must share the sequence length n and the visibility
     * (head dimensions may differ).
     *
     * @throws IllegalArgumentException when the list is empty or the heads disagree on n or visibility
     */
    public static LayerMetrics compute(List<HeadInput> heads) {
        if (heads == null || heads.isEmpty()) {
            throw new IllegalArgumentException("a layer needs at least one head");
        }
        HeadInput first = heads.get(0);
        for (int h = 1; h < heads.size(); h++) {
            HeadInput in = heads.get(h);
            if (in.n() != first.n()) {
                throw new IllegalArgumentException("head " + h + " has Q " + HeadInput.shape(in.q())
                        + " but head 0 has Q " + HeadInput.shape(first.q()) + ": sequence lengths differ");
            }
            if (!in.visibility().equals(first.visibility())) {
                throw new IllegalArgumentException("head " + h + " has visibility " + in.visibility()
                        + " but head 0 has " + first.visibility());
            }
        }
        int count = heads.size();
        // Heads are independent: measure them on all cores (the native products inside are thread-safe).
        HeadPass[] pass = IntStream.range(0, count).parallel()
                .mapToObj(h -> HeadPass.run(heads.get(h), true))
                .toArray(HeadPass[]::new);
        double[][] corr = new double[count][count];
        double[][] jsd = new double[count][count];
        double[] norm2 = new double[count];
        for (int h = 0; h < count; h++) {
            for (double x : pass[h].energy) {
                norm2[h] += x * x;
            }
            corr[h][h] = norm2[h] == 0 ? Double.NaN : 1.0;
            jsd[h][h] = pass[h].n >= 2 ? 0 : Double.NaN; // no row with two visible keys when n = 1
        }
        // The pairs dominate the cost (one logarithm per attention entry and pair): spread them over cores.
        int[][] pairs = new int[count * (count - 1) / 2][];
        for (int h = 0, p = 0; h < count; h++) {
            for (int g = h + 1; g < count; g++) {
                pairs[p++] = new int[] {h, g};
            }
        }
        IntStream.range(0, pairs.length).parallel().forEach(p -> {
            int h = pairs[p][0];
            int g = pairs[p][1];
            HeadPass a = pass[h];
            HeadPass b = pass[g];
            corr[h][g] = corr[g][h] = Redundancy.correlation(a.energy, norm2[h], b.energy, norm2[g], a.n, a.n, a.causal);
            jsd[h][g] = jsd[g][h] = jsdMean(a, b);
        });
        List<HeadMetrics> metrics = new ArrayList<>(count);
        for (int h = 0; h < count; h++) {
            double[] best = Redundancy.maxPartner(corr, h);
            metrics.add(pass[h].metrics
                    .set(HeadField.MAX_REDUNDANCY, best[0])
                    .set(HeadField.REDUNDANCY_PARTNER, best[1])
                    .build());
        }
        return new LayerMetrics(metrics, corr, jsd);
    }

    private static double jsdMean(HeadPass p, HeadPass q) {
        double sum = 0;
        int rows = 0;
        for (int i = 0; i < p.n; i++) {
            int len = p.rowLength(i);
            if (len < 2) {
                continue;
            }
            sum += Entropy.jensenShannon(p.attention, i * p.n, p.plogp[i], q.attention, i * q.n, q.plogp[i], len);
            rows++;
        }
        return rows == 0 ? Double.NaN : sum / rows;
    }
}
