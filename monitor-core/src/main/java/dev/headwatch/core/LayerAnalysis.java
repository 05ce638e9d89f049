package dev.headwatch.core;

import dev.headwatch.core.math.Entropy;
import dev.headwatch.core.math.Redundancy;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ObjIntConsumer;
import java.util.stream.IntStream;

/**
 * Every metric of the heads of one layer on the same sequence: the per-head metrics of
 * {@link HeadAnalysis} plus energy correlation and attention divergence between heads
 * (METRICS.md items 12-13, see {@link LayerMetrics}).
 */
public final class LayerAnalysis {

    /** Rows per block of the pair loop: the block's rows of eight heads at n = 1024 take 512 KiB. */
    private static final int ROW_BLOCK = 8;

    /** {@link LayerAnalyzer#standard()}: one instance, so that a layer's measurement knows it runs this analysis. */
    static final LayerAnalyzer STANDARD = LayerAnalysis::compute;

    private LayerAnalysis() {
    }

    /**
     * Measures the heads of one layer. All heads must share the number of queries n, of keys nk and the
     * visibility (head dimensions may differ).
     *
     * @throws IllegalArgumentException when the list is empty or the heads disagree on n, nk or visibility
     */
    public static LayerMetrics compute(List<HeadInput> heads) {
        return compute(heads, (pass, h) -> { });
    }

    /**
     * As {@link #compute(List)}; {@code afterPass} receives each head's pass (and the head's position in the
     * list) as soon as it is done, on the thread that ran it, while its attention is at hand.
     */
    static LayerMetrics compute(List<HeadInput> heads, ObjIntConsumer<HeadPass> afterPass) {
        if (heads == null || heads.isEmpty()) {
            throw new IllegalArgumentException("a layer needs at least one head");
        }
        HeadInput first = heads.get(0);
        for (int h = 1; h < heads.size(); h++) {
            HeadInput in = heads.get(h);
            if (in.n() != first.n() || in.nk() != first.nk()) {
                throw new IllegalArgumentException("head " + h + " has " + in.n() + " queries and " + in.nk()
                        + " keys but head 0 has " + first.n() + " and " + first.nk() + ": sequence lengths differ");
            }
            if (!in.visibility().equals(first.visibility())) {
                throw new IllegalArgumentException("head " + h + " has visibility " + in.visibility()
                        + " but head 0 has " + first.visibility());
            }
        }
        int count = heads.size();
        // Heads are independent: measure them on all cores (the native products inside are thread-safe).
        double[] norm2 = new double[count];
        HeadPass[] pass = IntStream.range(0, count).parallel()
                .mapToObj(h -> {
                    YieldPoint.pass();
                    HeadPass p = HeadPass.run(heads.get(h), true);
                    afterPass.accept(p, h);
                    norm2[h] = Redundancy.inner(p.energy, 0, p.energy, 0, p.energy.length);
                    return p;
                })
                .toArray(HeadPass[]::new);
        double[][] corr = new double[count][count];
        double[][] jsd = new double[count][count];
        int n = pass[0].n;
        int keys = pass[0].keys;
        int[][] pairs = new int[count * (count - 1) / 2][];
        for (int h = 0, p = 0; h < count; h++) {
            corr[h][h] = norm2[h] == 0 ? Double.NaN : 1.0;
            jsd[h][h] = keys >= 2 ? 0 : Double.NaN; // no row with two visible keys when there is one key
            for (int g = h + 1; g < count; g++) {
                pairs[p++] = new int[] {h, g};
            }
        }
        // The pairs dominate the cost (a mixture's x ln x per attention entry and pair). Blocks of rows go to
        // the cores, and each block serves every pair while its rows of all heads are in cache; the block
        // sums are then added in block order, so the result does not depend on the scheduling. The block's
        // rows of each head (those with two visible keys or more) are copied out once, end to end, with
        // their logarithms, so that the vectorised divergence runs over the whole block at once.
        int blocks = (n + ROW_BLOCK - 1) / ROW_BLOCK;
        double[][] inner = new double[blocks][pairs.length];
        double[][] divergence = new double[blocks][pairs.length];
        // Scratch rows go from block to block and from call to call, one set per thread (fresh arrays for each
        // block made the loop twice as slow).
        IntStream.range(0, blocks).parallel().forEach(block -> {
            YieldPoint.pass();
            PairRows w = PairRows.ofThisThread(count, Math.min(n, ROW_BLOCK) * keys);
            int from = block * ROW_BLOCK;
            int to = Math.min(n, from + ROW_BLOCK);
            int packed = 0;
            for (int i = from; i < to; i++) {
                int len = pass[0].rowLength(i);
                for (int h = 0; h < count && len >= 2; h++) {
                    System.arraycopy(pass[h].attention, i * keys, w.rows[h], packed, len);
                    Entropy.logRow(pass[h].energy, i * keys, pass[h].logShift[i], len, w.logs[h], packed);
                }
                packed += len >= 2 ? len : 0;
            }
            for (int p = 0; p < pairs.length; p++) {
                int h = pairs[p][0];
                int g = pairs[p][1];
                Entropy.mixtureTerms(w.rows[h], w.logs[h], w.rows[g], w.logs[g], packed, w.terms, w.top);
                for (int i = from, at = 0; i < to; i++) {
                    int len = pass[0].rowLength(i);
                    inner[block][p] += Redundancy.inner(pass[h].energy, i * keys, pass[g].energy, i * keys, len);
                    if (len >= 2) {
                        divergence[block][p] += Entropy.jensenShannon(pass[h].plogp[i], pass[g].plogp[i], w.terms,
                                at, len);
                        at += len;
                    }
                }
            }
        });
        int rows = pass[0].causal ? n - 1 : (keys >= 2 ? n : 0);
        for (int p = 0; p < pairs.length; p++) {
            int h = pairs[p][0];
            int g = pairs[p][1];
            double ab = 0, sum = 0;
            for (int block = 0; block < blocks; block++) {
                ab += inner[block][p];
                sum += divergence[block][p];
            }
            corr[h][g] = corr[g][h] = Redundancy.correlation(ab, norm2[h], norm2[g]);
            jsd[h][g] = jsd[g][h] = rows == 0 ? Double.NaN : sum / rows;
        }
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

    /**
     * A block of rows of every head's attention and of its logarithms, and two blocks of scratch: the calling
     * thread's, grown to the most heads and entries it has seen (a block's task neither forks nor joins, so a
     * thread runs one at a time).
     */
    private static final class PairRows {
        private static final ThreadLocal<PairRows> OF_THREAD = new ThreadLocal<>();

        final double[][] rows;
        final double[][] logs;
        final double[] terms;
        final double[] top;

        private PairRows(int heads, int entries) {
            rows = new double[heads][entries];
            logs = new double[heads][entries];
            terms = new double[entries];
            top = new double[entries];
        }

        static PairRows ofThisThread(int heads, int entries) {
            PairRows w = OF_THREAD.get();
            if (w == null || w.rows.length < heads || w.terms.length < entries) {
                w = new PairRows(Math.max(heads, w == null ? 0 : w.rows.length),
                        Math.max(entries, w == null ? 0 : w.terms.length));
                OF_THREAD.set(w);
            }
            return w;
        }
    }
}
