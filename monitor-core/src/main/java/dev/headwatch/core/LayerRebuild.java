package dev.headwatch.core;

import dev.headwatch.core.LayerCapture.Projections;
import dev.headwatch.core.LayerCapture.Recurrence;
import dev.headwatch.core.LayerCapture.Sequence;
import dev.headwatch.core.math.Products;
import dev.headwatch.core.math.Softmax;
import org.nd4j.linalg.api.buffer.DataType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The core's reading of a {@link LayerCapture}: Q, K and V per head exactly as the layer computes them, and
 * the layer's output rebuilt from them to measure {@code reconstructionError} against the output the layer
 * produced (METRICS.md item 4). All in Java on the captured arrays: no framework call.
 *
 * <p>Visibility of a self-attention sequence: all keys visible is {@link Visibility#FULL}, ones followed by
 * zeros {@link Visibility#padded(int)}, any other mask keeps only the visible positions (FULL over them);
 * a causal layer is {@link Visibility#CAUSAL}. Cross-attention (queries and keys of different lengths)
 * keeps the existing queries over the visible keys, FULL. A sequence without a visible key or an existing
 * query is left out.
 */
final class LayerRebuild {

    private LayerRebuild() {
    }

    /**
     * Every head of the layer on every sequence, with the reconstruction error (NaN without values or
     * output, or for a recurrent activation the core does not apply) and the weight-only
     * {@code qkSpectralNorm} per head (NaN without projections).
     *
     * @throws IllegalArgumentException when the arrays do not fit the layer's layout (naming both)
     */
    static LayerInput of(LayerCapture c) {
        return of(c, () -> { }, null);
    }

    /**
     * As {@link #of(LayerCapture)}; {@code nonConverged} runs once for each head whose qkSpectralNorm fails, and
     * {@code state} (or null) is the monitor's, carried from the last observation to the next.
     */
    static LayerInput of(LayerCapture c, Runnable nonConverged, RebuildState state) {
        int heads = c.heads();
        int hs = c.headSize();
        double tau = Double.isNaN(c.scale()) ? 1.0 / Math.sqrt(hs) : c.scale();
        DataType type = c.doublePrecision() ? DataType.DOUBLE : DataType.FLOAT;
        Projections p = c.projections();
        Recurrence r = c.recurrence();
        List<List<HeadInput>> sequences = new ArrayList<>();
        double err2 = 0;
        double norm2 = 0;
        for (Sequence s : c.sequences()) {
            int tq = s.queryPositions();
            int tk = s.keyPositions();
            boolean[] keyVisible = s.keyVisible() != null ? s.keyVisible() : all(tk);
            boolean[] queryVisible = s.queryVisible() != null ? s.queryVisible() : all(tq);
            if (count(keyVisible) == 0 || count(queryVisible) == 0) {
                continue;
            }
            if (c.causal() && (tq != tk || count(keyVisible) != tk)) {
                throw new IllegalArgumentException("layer " + c.layer() + ": a causal layer needs queries and keys of "
                        + "one length and no key mask but has " + tq + " queries over " + count(keyVisible) + " of "
                        + tk + " keys");
            }
            if (r != null && (s.output() == null || tq != tk)) {
                throw new IllegalArgumentException("layer " + c.layer() + ": a recurrent layer needs its output and "
                        + "one length of input and output");
            }
            // a recurrent layer's query at step t is its output at t - 1
            double[] xq = r != null ? s.output() : s.queries();
            double[] xv = s.values();
            int nInQ = inputWidth(c, xq, tq, p == null ? null : p.wq(), "queries");
            int nInK = inputWidth(c, s.keys(), tk, p == null ? null : p.wk(), "keys");
            int nInV = xv == null ? 0 : inputWidth(c, xv, tk, p == null ? null : p.wv(), "values");
            int dv = xv == null ? 0 : p != null ? hs : nInV / heads;
            if (xv != null && p == null && nInV != heads * dv) {
                throw new IllegalArgumentException("layer " + c.layer() + ": values of " + nInV
                        + " columns do not split into " + heads + " heads");
            }
            double[][] qh = new double[heads][];
            double[][] kh = new double[heads][];
            double[][] vh = new double[heads][];
            double[] attended = xv == null ? null : new double[tq * heads * dv];
            for (int h = 0; h < heads; h++) {
                qh[h] = head(xq, tq, nInQ, p == null ? null : p.wq(), h, hs);
                kh[h] = head(s.keys(), tk, nInK, p == null ? null : p.wk(), h, hs);
                if (xv != null) {
                    vh[h] = head(xv, tk, nInV, p == null ? null : p.wv(), h, dv);
                    double[] out = attend(qh[h], kh[h], vh[h], tq, tk, hs, dv, tau, keyVisible, c.causal());
                    for (int i = 0; i < tq; i++) {
                        System.arraycopy(out, i * dv, attended, i * heads * dv + h * dv, dv);
                    }
                }
            }
            double[] rebuilt = attended == null || s.output() == null ? null : output(c, s, attended, heads * dv);
            if (rebuilt != null) {
                if (rebuilt.length != s.output().length) {
                    throw new IllegalArgumentException("layer " + c.layer() + ": the rebuilt output has "
                            + rebuilt.length / tq + " columns but the layer's output " + s.output().length / tq);
                }
                int cols = rebuilt.length / tq;
                for (int i = 0; i < tq; i++) {
                    if (queryVisible[i]) {
                        for (int j = i * cols; j < (i + 1) * cols; j++) {
                            double y = s.output()[j];
                            err2 += (y - rebuilt[j]) * (y - rebuilt[j]);
                            norm2 += y * y;
                        }
                    }
                }
            }
            // projected heads are fresh arrays, this method's alone: rounded in place, not copied
            boolean owned = p != null;
            sequences.add(tq == tk ? selfInputs(c, qh, kh, vh, tq, dv, keyVisible, tau, type, owned)
                    : crossInputs(qh, kh, vh, tq, tk, hs, dv, queryVisible, keyVisible, tau, type));
        }
        double err = norm2 > 0 ? Math.sqrt(err2 / norm2) : Double.NaN;
        return new LayerInput(c.layer(), IntStream.range(0, heads).boxed().toList(), sequences, err,
                p == null ? null : Arrays.stream(spectralNorms(c, p, nonConverged, state)).boxed().toList());
    }

    /**
     * The columns nIn of an input of {@code rows} rows, checked against its projection w (or, without one,
     * against the heads' width).
     */
    private static int inputWidth(LayerCapture c, double[] in, int rows, double[] w, String what) {
        int width = c.heads() * c.headSize();
        if (w == null) {
            if (in.length != rows * width && !"values".equals(what)) {
                throw new IllegalArgumentException("layer " + c.layer() + ": " + what + " of " + in.length / rows
                        + " columns but " + c.heads() + " heads of size " + c.headSize() + " need " + width);
            }
            return in.length / rows;
        }
        int nIn = w.length / width;
        if (in.length != rows * nIn) {
            throw new IllegalArgumentException("layer " + c.layer() + ": " + what + " of " + in.length / rows
                    + " columns but the projection takes " + nIn);
        }
        return nIn;
    }

    /**
     * Head h of an input {@code [rows, nIn]}, {@code [rows, size]}: {@code in w_h^T} with {@code w_h} rows
     * {@code h*size ..} of w (read in place, a fresh array), or without projection columns {@code h*size ..}
     * of the input (the input itself when they are all of it).
     */
    private static double[] head(double[] in, int rows, int nIn, double[] w, int h, int size) {
        return w == null ? columns(in, rows, nIn, h * size, size)
                : Products.multiplyByTranspose(in, rows, nIn, w, h * size * nIn, size);
    }

    /** The layer's output rebuilt from the heads' attention outputs side by side ({@code [Tq, cols]}). */
    private static double[] output(LayerCapture c, Sequence s, double[] attended, int cols) {
        int tq = s.queryPositions();
        double[] att = attended;
        if (c.projections() != null) {
            double[] wo = c.projections().wo();
            att = Products.multiply(attended, tq, cols, wo, wo.length / cols);
            cols = wo.length / cols;
        }
        Recurrence r = c.recurrence();
        if (r == null) {
            return att;
        }
        if (r.activation() == null) {
            return null;
        }
        // h_t = act(x_t W + b + attn(h_{t-1}) R), with the layer's actual h_{t-1} as the query
        int nIn = s.queries().length / tq;
        int nOut = r.inputWeights().length / nIn;
        double[] z = Products.multiply(s.queries(), tq, nIn, r.inputWeights(), nOut);
        double[] shifted = Products.multiply(att, tq, cols, r.recurrentWeights(), nOut);
        for (int t = 0; t < tq; t++) {
            for (int j = 0; j < nOut; j++) {
                double x = z[t * nOut + j] + (r.bias() != null ? r.bias()[j] : 0) + (t > 0 ? shifted[(t - 1) * nOut + j] : 0);
                z[t * nOut + j] = r.activation().apply(x, r.alpha());
            }
        }
        return z;
    }

    /**
     * Softmax attention {@code softmax(tau q k^T) v}, {@code [Tq, dv]}: row i over the visible keys j (and
     * {@code j <= i} when causal).
     */
    static double[] attend(double[] q, double[] k, double[] v, int tq, int tk, int d, int dv, double tau,
                           boolean[] keyVisible, boolean causal) {
        double[] s = Products.multiplyByTranspose(q, tq, d, k, tk);
        for (int i = 0; i < tq; i++) {
            int row = i * tk;
            int len = causal ? i + 1 : tk;
            for (int j = 0; j < len; j++) {
                s[row + j] *= tau;
            }
            Softmax.row(s, row, len, keyVisible);
            Arrays.fill(s, row + len, row + tk, 0);
        }
        return Products.multiply(s, tq, tk, v, dv);
    }

    /** One self-attention sequence's heads, compacted to the visible keys as the class javadoc says. */
    private static List<HeadInput> selfInputs(LayerCapture c, double[][] qh, double[][] kh, double[][] vh, int n, int dv,
                                              boolean[] keyVisible, double tau, DataType type, boolean owned) {
        int visible = count(keyVisible);
        int prefix = 0;
        while (prefix < n && keyVisible[prefix]) {
            prefix++;
        }
        Visibility vis = c.causal() ? Visibility.CAUSAL
                : visible == n ? Visibility.FULL : prefix == visible ? Visibility.padded(prefix) : Visibility.FULL;
        int[] keep = visible == n || prefix == visible ? null : indices(keyVisible);
        List<HeadInput> out = new ArrayList<>();
        for (int h = 0; h < qh.length; h++) {
            int d = qh[h].length / n;
            out.add(HeadInput.of(rows(qh[h], d, keep), rows(kh[h], d, keep), vh[h] == null ? null : rows(vh[h], dv, keep),
                    d, type, vis, tau, owned || keep != null));
        }
        return out;
    }

    /** One cross-attention sequence's heads: the existing queries over the visible keys, FULL. */
    private static List<HeadInput> crossInputs(double[][] qh, double[][] kh, double[][] vh, int tq, int tk, int d, int dv,
                                               boolean[] queryVisible, boolean[] keyVisible, double tau, DataType type) {
        int[] queries = indices(queryVisible);
        int[] keys = indices(keyVisible);
        List<HeadInput> out = new ArrayList<>();
        for (int h = 0; h < qh.length; h++) {
            out.add(HeadInput.of(rows(qh[h], d, queries), rows(kh[h], d, keys), vh[h] == null ? null : rows(vh[h], dv, keys),
                    d, type, Visibility.FULL, tau, true));      // the kept rows are copies
        }
        return out;
    }

    /**
     * Per head {@code sigma_1(tau Wq_h^T Wk_h)} ({@link WeightAnalysis}), warm-started from the state's vectors
     * (without a state, by the full solve).
     */
    private static double[] spectralNorms(LayerCapture c, Projections p, Runnable nonConverged, RebuildState state) {
        int heads = c.heads();
        int hs = c.headSize();
        double[][] warm = state != null ? state.eigenvectors(c.layer(), heads, hs) : null;
        return WeightAnalysis.spectralNorms(p.wq(), p.wk(), heads, hs, c.scale(), warm, nonConverged);
    }

    /** Columns {@code from .. from+count-1} of a row-major {@code [rows, cols]} matrix. */
    private static double[] columns(double[] a, int rows, int cols, int from, int count) {
        if (count == cols) {
            return a;
        }
        double[] out = new double[rows * count];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(a, i * cols + from, out, i * count, count);
        }
        return out;
    }

    /** The listed rows of a row-major matrix of {@code cols} columns; the matrix itself when {@code keep} is null. */
    private static double[] rows(double[] a, int cols, int[] keep) {
        if (keep == null) {
            return a;
        }
        double[] out = new double[keep.length * cols];
        for (int i = 0; i < keep.length; i++) {
            System.arraycopy(a, keep[i] * cols, out, i * cols, cols);
        }
        return out;
    }

    private static boolean[] all(int n) {
        boolean[] v = new boolean[n];
        Arrays.fill(v, true);
        return v;
    }

    private static int count(boolean[] v) {
        int c = 0;
        for (boolean b : v) {
            c += b ? 1 : 0;
        }
        return c;
    }

    private static int[] indices(boolean[] visible) {
        int[] out = new int[count(visible)];
        for (int j = 0, c = 0; j < visible.length; j++) {
            if (visible[j]) {
                out[c++] = j;
            }
        }
        return out;
    }
}
