package dev.headwatch.core;

import dev.headwatch.core.math.RowMajor;
import dev.headwatch.core.math.WeightSpectra;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Weight-only metrics of an attention layer (no data needed: works on checkpoints). For head h with
 * projections {@code Wq_h [hs, nInQ]} and {@code Wk_h [hs, nInK]} (queries and keys may come from inputs of
 * different widths), {@code M_h = tau Wq_h^T Wk_h} ({@code nInQ x nInK}); see {@link WeightField} and
 * {@link WeightLayerMetrics}. Computed through the {@code hs x hs} core of two thin QR factorisations,
 * never an SVD of M itself ({@link WeightSpectra}).
 */
public final class WeightAnalysis {

    private WeightAnalysis() {
    }

    /**
     * Measures a layer from DL4J-layout weights.
     *
     * @param wq    {@code Wq} as {@code [nHeads, headSize, nInQ]} (DL4J) or one head's {@code [headSize, nInQ]}
     * @param wk    {@code Wk} as {@code [nHeads, headSize, nInK]} or {@code [headSize, nInK]}: the same heads and
     *              head size as {@code wq}
     * @param scale logit scale tau, or NaN for {@code 1/sqrt(headSize)}
     * @throws IllegalArgumentException when the shapes are not as above or differ in heads or head size
     */
    public static WeightLayerMetrics compute(INDArray wq, INDArray wk, double scale) {
        Heads w = split(wq, wk);
        return compute(w.q, w.k, w.hs, w.nInQ, w.nInK, scale);
    }

    /**
     * Only each head's {@code qkSpectralNorm}, equal to the one {@link #compute(INDArray, INDArray, double)}
     * reports, without the singular vectors and the overlaps: what live monitoring needs at every
     * observation. A head whose eigenproblem does not converge (weights whose Gram matrices overflow) is NaN,
     * logged once, and the other heads stand.
     *
     * @throws IllegalArgumentException as {@link #compute(INDArray, INDArray, double)}
     */
    public static double[] spectralNorms(INDArray wq, INDArray wk, double scale) {
        Heads w = split(wq, wk);
        return spectralNorms(w.q, w.k, w.hs, w.nInQ, w.nInK, scale);
    }

    /**
     * As {@link #spectralNorms(INDArray, INDArray, double)}, from weights already read: per head h,
     * {@code wq[h]} row-major {@code [headSize, nInQ]} and {@code wk[h]} row-major {@code [headSize, nInK]}.
     *
     * @throws IllegalArgumentException when the scale is invalid or a head's arrays are not {@code hs * nInQ}
     *                                  and {@code hs * nInK}
     */
    public static double[] spectralNorms(double[][] wq, double[][] wk, int hs, int nInQ, int nInK, double scale) {
        double tau = tau(scale, hs);
        double[] norms = new double[wq.length];
        for (int h = 0; h < norms.length; h++) {
            YieldPoint.pass();
            int head = h;
            Double norm = NonConvergence.orNull(() -> WeightSpectra.spectralNorm(wq[head], wk[head], hs, nInQ, nInK, tau),
                    "qkSpectralNorm of a head", () -> { });
            norms[h] = norm == null ? Double.NaN : norm;
        }
        return norms;
    }

    /**
     * As above, from a layer's weights row-major {@code wq [heads * hs, nInQ]} and {@code wk [heads * hs, nInK]},
     * read in place, each head's eigenproblem warm-started from {@code warm[h]} (length hs, or no warm start when
     * {@code warm} is null; see
     * {@link WeightSpectra#spectralNorm(double[], int, double[], int, int, int, int, double, double[])});
     * {@code counted} runs once for each head whose eigenproblem does not converge.
     */
    static double[] spectralNorms(double[] wq, double[] wk, int heads, int hs, double scale, double[][] warm,
                                  Runnable counted) {
        double tau = tau(scale, hs);
        int nInQ = wq.length / (heads * hs);
        int nInK = wk.length / (heads * hs);
        double[] norms = new double[heads];
        for (int h = 0; h < heads; h++) {
            int head = h;
            Double norm = NonConvergence.orNull(() -> WeightSpectra.spectralNorm(wq, head * hs * nInQ, wk,
                    head * hs * nInK, hs, nInQ, nInK, tau, warm == null ? null : warm[head]), "qkSpectralNorm of a head",
                    counted);
            norms[h] = norm == null ? Double.NaN : norm;
        }
        return norms;
    }

    /** Per-head row-major {@code [hs, nInQ]} and {@code [hs, nInK]} weights. */
    private record Heads(double[][] q, double[][] k, int hs, int nInQ, int nInK) {
    }

    private static Heads split(INDArray wq, INDArray wk) {
        if (wq == null || wk == null) {
            throw new IllegalArgumentException("Wq and Wk must not be null");
        }
        if (wq.rank() != wk.rank() || (wq.rank() != 2 && wq.rank() != 3)
                || !java.util.Arrays.equals(java.util.Arrays.copyOf(wq.shape(), wq.rank() - 1),
                        java.util.Arrays.copyOf(wk.shape(), wk.rank() - 1))) {
            throw new IllegalArgumentException("Wq and Wk must be [nHeads, headSize, nInQ] and [nHeads, headSize, nInK]"
                    + " (or [headSize, nIn]) but were " + HeadInput.shape(wq) + " and " + HeadInput.shape(wk));
        }
        int heads = wq.rank() == 2 ? 1 : (int) wq.size(0);
        int hs = (int) wq.size(-2);
        int nInQ = (int) wq.size(-1);
        int nInK = (int) wk.size(-1);
        if (heads < 1 || hs < 1 || nInQ < 1 || nInK < 1) {
            throw new IllegalArgumentException("Wq and Wk must have at least one head, row and column but were "
                    + HeadInput.shape(wq) + " and " + HeadInput.shape(wk));
        }
        // One read of each whole array (not one per head): head h is the h-th block of hs * nIn values.
        double[] q = RowMajor.of(wq);
        double[] k = RowMajor.of(wk);
        double[][] qs = new double[heads][];
        double[][] ks = new double[heads][];
        for (int h = 0; h < heads; h++) {
            qs[h] = java.util.Arrays.copyOfRange(q, h * hs * nInQ, (h + 1) * hs * nInQ);
            ks[h] = java.util.Arrays.copyOfRange(k, h * hs * nInK, (h + 1) * hs * nInK);
        }
        return new Heads(qs, ks, hs, nInQ, nInK);
    }

    /**
     * Measures a layer from per-head weights {@code Wq_h, Wk_h [headSize, nIn]}.
     *
     * @param scale logit scale tau, or NaN for {@code 1/sqrt(headSize)}
     * @throws IllegalArgumentException when the lists are empty, differ in length, or a shape differs
     */
    public static WeightLayerMetrics compute(List<INDArray> wq, List<INDArray> wk, double scale) {
        if (wq == null || wk == null || wq.isEmpty() || wq.size() != wk.size()) {
            throw new IllegalArgumentException("need the same positive number of Wq and Wk heads but got "
                    + (wq == null ? 0 : wq.size()) + " and " + (wk == null ? 0 : wk.size()));
        }
        long[] shape = wq.get(0).shape();
        if (shape.length != 2 || shape[0] < 1 || shape[1] < 1) {
            throw new IllegalArgumentException("per-head weights must be [headSize, nIn] but Wq[0] was "
                    + HeadInput.shape(wq.get(0)));
        }
        for (int h = 0; h < wq.size(); h++) {
            if (!java.util.Arrays.equals(wq.get(h).shape(), shape) || !java.util.Arrays.equals(wk.get(h).shape(), shape)) {
                throw new IllegalArgumentException("head " + h + " has Wq " + HeadInput.shape(wq.get(h)) + " and Wk "
                        + HeadInput.shape(wk.get(h)) + " but head 0 has Wq " + HeadInput.shape(wq.get(0)));
            }
        }
        int count = wq.size();
        double[][] qs = new double[count][];
        double[][] ks = new double[count][];
        for (int h = 0; h < count; h++) {
            qs[h] = RowMajor.of(wq.get(h));
            ks[h] = RowMajor.of(wk.get(h));
        }
        return compute(qs, ks, (int) shape[0], (int) shape[1], (int) shape[1], scale);
    }

    /** Per-head row-major {@code [hs, nInQ]} and {@code [hs, nInK]} weights, shapes already checked. */
    private static WeightLayerMetrics compute(double[][] wq, double[][] wk, int hs, int nInQ, int nInK, double scale) {
        double tau = tau(scale, hs);
        int count = wq.length;
        // Heads are independent: factor them in parallel, as LayerAnalysis does. A head whose SVD does not
        // converge has undefined figures (NaN), the others stand.
        WeightSpectra.QkFactors[] factors = IntStream.range(0, count).parallel()
                .mapToObj(h -> NonConvergence.orNull(() -> WeightSpectra.factor(wq[h], wk[h], hs, nInQ, nInK, tau),
                        "SVD of a head's query-key form", () -> { }))
                .toArray(WeightSpectra.QkFactors[]::new);
        List<WeightHeadMetrics> heads = new ArrayList<>(count);
        double[][] sigma = new double[count][];
        for (int h = 0; h < count; h++) {
            boolean ok = factors[h] != null;
            heads.add(ok ? new WeightHeadMetrics(factors[h].spectralNorm(), factors[h].stableRank())
                    : new WeightHeadMetrics(Double.NaN, Double.NaN));
            sigma[h] = ok ? factors[h].singularValues() : nan(Math.min(hs, Math.min(nInQ, nInK)));
        }
        double[][] overlap = new double[count][count];
        for (int h = 0; h < count; h++) {
            for (int g = h; g < count; g++) {
                overlap[h][g] = overlap[g][h] = factors[h] == null || factors[g] == null ? Double.NaN
                        : WeightSpectra.overlap(factors[h], factors[g]);
            }
        }
        return new WeightLayerMetrics(heads, overlap, sigma);
    }

    private static double[] nan(int length) {
        double[] x = new double[length];
        java.util.Arrays.fill(x, Double.NaN);
        return x;
    }

    private static double tau(double scale, int hs) {
        if (!(Double.isNaN(scale) || (scale > 0 && Double.isFinite(scale)))) {
            throw new IllegalArgumentException("scale must be positive and finite (or NaN for 1/sqrt(headSize)) but was " + scale);
        }
        return Double.isNaN(scale) ? 1.0 / Math.sqrt(hs) : scale;
    }
}
