package dev.headwatch.core;

import dev.headwatch.core.math.RowMajor;
import dev.headwatch.core.math.WeightSpectra;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Weight-only metrics of an attention layer (no data needed: works on checkpoints). For head h with
 * projections {@code Wq_h, Wk_h [hs, nIn]}, {@code M_h = tau Wq_h^T Wk_h}; see {@link WeightField} and
 * {@link WeightLayerMetrics}. Computed through the {@code hs x hs} core of two thin QR factorisations,
 * never an {@code nIn x nIn} SVD ({@link WeightSpectra}).
 */
public final class WeightAnalysis {

    private WeightAnalysis() {
    }

    /**
     * Measures a layer from DL4J-layout weights.
     *
     * @param wq    {@code Wq} as {@code [nHeads, headSize, nIn]} (DL4J) or one head's {@code [headSize, nIn]}
     * @param wk    {@code Wk}, same shape as {@code wq}
     * @param scale logit scale tau, or NaN for {@code 1/sqrt(headSize)}
     * @throws IllegalArgumentException when the shapes are not as above or differ
     */
    public static WeightLayerMetrics compute(INDArray wq, INDArray wk, double scale) {
        Heads w = split(wq, wk);
        return compute(w.q, w.k, w.hs, w.nIn, scale);
    }

    /**
     * Only each head's {@code qkSpectralNorm}, equal to the one {@link #compute(INDArray, INDArray, double)}
     * reports, without the singular vectors and the overlaps: what live monitoring needs at every
     * observation.
     *
     * @throws IllegalArgumentException as {@link #compute(INDArray, INDArray, double)}
     */
    public static double[] spectralNorms(INDArray wq, INDArray wk, double scale) {
        Heads w = split(wq, wk);
        return spectralNorms(w.q, w.k, w.hs, w.nIn, scale);
    }

    /**
     * As {@link #spectralNorms(INDArray, INDArray, double)}, from weights already read: per head h,
     * {@code wq[h]} and {@code wk[h]} row-major {@code [headSize, nIn]}.
     *
     * @throws IllegalArgumentException when the scale is invalid or a head's arrays are not {@code hs * nIn}
     */
    public static double[] spectralNorms(double[][] wq, double[][] wk, int hs, int nIn, double scale) {
        double tau = tau(scale, hs);
        double[] norms = new double[wq.length];
        for (int h = 0; h < norms.length; h++) {
            norms[h] = WeightSpectra.spectralNorm(wq[h], wk[h], hs, nIn, tau);
        }
        return norms;
    }

    /** Per-head row-major {@code [hs, nIn]} weights. */
    private record Heads(double[][] q, double[][] k, int hs, int nIn) {
    }

    private static Heads split(INDArray wq, INDArray wk) {
        if (wq == null || wk == null) {
            throw new IllegalArgumentException("Wq and Wk must not be null");
        }
        if (!java.util.Arrays.equals(wq.shape(), wk.shape()) || (wq.rank() != 2 && wq.rank() != 3)) {
            throw new IllegalArgumentException("Wq and Wk must both be [nHeads, headSize, nIn] or [headSize, nIn]"
                    + " but were " + HeadInput.shape(wq) + " and " + HeadInput.shape(wk));
        }
        int heads = wq.rank() == 2 ? 1 : (int) wq.size(0);
        int hs = (int) wq.size(-2);
        int nIn = (int) wq.size(-1);
        if (heads < 1 || hs < 1 || nIn < 1) {
            throw new IllegalArgumentException("Wq must have at least one head, row and column but was " + HeadInput.shape(wq));
        }
        // One read of each whole array (not one per head): head h is the h-th block of hs * nIn values.
        double[] q = RowMajor.of(wq);
        double[] k = RowMajor.of(wk);
        double[][] qs = new double[heads][];
        double[][] ks = new double[heads][];
        for (int h = 0; h < heads; h++) {
            qs[h] = java.util.Arrays.copyOfRange(q, h * hs * nIn, (h + 1) * hs * nIn);
            ks[h] = java.util.Arrays.copyOfRange(k, h * hs * nIn, (h + 1) * hs * nIn);
        }
        return new Heads(qs, ks, hs, nIn);
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
        return compute(qs, ks, (int) shape[0], (int) shape[1], scale);
    }

    /** Per-head row-major {@code [hs, nIn]} weights, shapes already checked. */
    private static WeightLayerMetrics compute(double[][] wq, double[][] wk, int hs, int nIn, double scale) {
        double tau = tau(scale, hs);
        int count = wq.length;
        // Heads are independent: factor them in parallel, as LayerAnalysis does.
        WeightSpectra.QkFactors[] factors = IntStream.range(0, count).parallel()
                .mapToObj(h -> WeightSpectra.factor(wq[h], wk[h], hs, nIn, tau))
                .toArray(WeightSpectra.QkFactors[]::new);
        List<WeightHeadMetrics> heads = new ArrayList<>(count);
        double[][] sigma = new double[count][];
        for (int h = 0; h < count; h++) {
            heads.add(new WeightHeadMetrics(factors[h].spectralNorm(), factors[h].stableRank()));
            sigma[h] = factors[h].singularValues();
        }
        double[][] overlap = new double[count][count];
        for (int h = 0; h < count; h++) {
            for (int g = h; g < count; g++) {
                overlap[h][g] = overlap[g][h] = WeightSpectra.overlap(factors[h], factors[g]);
            }
        }
        return new WeightLayerMetrics(heads, overlap, sigma);
    }

    private static double tau(double scale, int hs) {
        if (!(Double.isNaN(scale) || (scale > 0 && Double.isFinite(scale)))) {
            throw new IllegalArgumentException("scale must be positive and finite (or NaN for 1/sqrt(headSize)) but was " + scale);
        }
        return Double.isNaN(scale) ? 1.0 / Math.sqrt(hs) : scale;
    }
}
