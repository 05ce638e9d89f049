package dev.headwatch.core;

import dev.headwatch.core.LayerCapture.Projections;
import dev.headwatch.core.LayerCapture.Recurrence;
import dev.headwatch.core.LayerCapture.Sequence;
import dev.headwatch.core.math.Products;
import org.nd4j.linalg.api.buffer.DataType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntPredicate;
import java.util.stream.IntStream;

/**
 * The core's reading of a {@link LayerCapture}: Q, K and V per head exactly as the layer computes them, and
 * the {@link Reconstruction} of the layer's output from them, begun, that measures {@code reconstructionError}
 * against the output the layer produced (METRICS.md item 4). All in Java on the captured arrays: no
 * framework call.
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
     * {@code qkSpectralNorm} per head (NaN without projections). The reconstruction attends every head here.
     *
     * @throws IllegalArgumentException when the arrays do not fit the layer's layout (naming both)
     */
    static LayerInput of(LayerCapture c) {
        return of(c, () -> { }, null, h -> false).finished();
    }

    /**
     * The heads of a layer and the reconstruction that checks them, begun: it attends here every head that
     * {@code fromPass} rejects, and the query rows a head pass does not hold (padding the layer still outputs),
     * and waits for the others' attention from their head pass ({@link Reconstruction#attended}).
     * {@code nonConverged} runs once for each head whose qkSpectralNorm fails, and {@code state} (or null) is
     * the monitor's, carried from the last observation to the next.
     *
     * @throws IllegalArgumentException when the arrays do not fit the layer's layout (naming both)
     */
    static Rebuilt of(LayerCapture c, Runnable nonConverged, RebuildState state, IntPredicate fromPass) {
        int heads = c.heads();
        int hs = c.headSize();
        double tau = Double.isNaN(c.scale()) ? 1.0 / Math.sqrt(hs) : c.scale();
        DataType type = c.doublePrecision() ? DataType.DOUBLE : DataType.FLOAT;
        Projections p = c.projections();
        Recurrence r = c.recurrence();
        // a recurrent activation the core does not apply leaves the layer unchecked
        boolean checked = r == null || r.activation() != null;
        List<List<HeadInput>> sequences = new ArrayList<>();
        List<Reconstruction.Part> parts = new ArrayList<>();
        int sequence = -1;
        for (Sequence s : c.sequences()) {
            sequence++;
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
            Layout layout = tq == tk ? selfLayout(c, keyVisible) : crossLayout(queryVisible, keyVisible);
            Reconstruction.Part part = checked && xv != null && s.output() != null
                    ? Reconstruction.part(c, s, queryVisible, heads * dv, layout.passRows()) : null;
            double[][] qh = new double[heads][];
            double[][] kh = new double[heads][];
            double[][] vh = new double[heads][];
            for (int h = 0; h < heads; h++) {
                YieldPoint.pass();
                qh[h] = head(xq, tq, nInQ, p == null ? null : p.wq(), h, hs, state, c, sequence, 0);
                kh[h] = head(s.keys(), tk, nInK, p == null ? null : p.wk(), h, hs, state, c, sequence, 1);
                if (xv != null) {
                    vh[h] = head(xv, tk, nInV, p == null ? null : p.wv(), h, dv, state, c, sequence, 2);
                }
                if (part != null) {
                    // from the heads as projected, before their float32 rounding below
                    part.attendHere(h, fromPass.test(h), qh[h], kh[h], vh[h], tk, hs, tau, keyVisible, c.causal());
                }
            }
            parts.add(part);
            // projected heads (fresh, or the state's rooms) and the column blocks of several heads' input are
            // this observation's alone: rounded in place, not copied
            sequences.add(inputs(qh, kh, vh, hs, dv, layout, tau, type, p != null || heads > 1));
        }
        LayerInput input = new LayerInput(c.layer(), IntStream.range(0, heads).boxed().toList(), sequences, Double.NaN,
                p == null ? null : Arrays.stream(spectralNorms(c, p, nonConverged, state)).boxed().toList());
        return new Rebuilt(input, new Reconstruction(c, parts));
    }

    /**
     * The heads of a layer, per sequence, and the reconstruction that checks them (null when the heads were
     * given, not rebuilt: their {@code reconstructionError} is final).
     */
    record Rebuilt(LayerInput input, Reconstruction reconstruction) {

        /** The reconstruction's error, once every head's attention is in. */
        double reconstructionError() {
            return reconstruction == null ? input.reconstructionError() : reconstruction.error();
        }

        /** The heads with the reconstruction's error, once every head's attention is in. */
        LayerInput finished() {
            return input.withReconstructionError(reconstructionError());
        }
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
     * {@code h*size ..} of w (read in place; into the state's room for projection {@code which} of this head and
     * sequence, or a fresh array without a state), or without projection columns {@code h*size ..} of the input
     * (the input itself when they are all of it).
     */
    private static double[] head(double[] in, int rows, int nIn, double[] w, int h, int size, RebuildState state,
                                 LayerCapture c, int sequence, int which) {
        if (w == null) {
            return columns(in, rows, nIn, h * size, size);
        }
        double[] out = state == null ? new double[rows * size]
                : state.projectedRoom(c.layer(), sequence, c.heads(), h, which, rows * size);
        return Products.multiplyByTranspose(in, rows, nIn, w, h * size * nIn, size, out);
    }

    /**
     * Which rows and keys the heads of one sequence keep, and their visibility.
     *
     * @param queries  the query positions kept in the heads' inputs, or null for all
     * @param keys     the key positions kept, or null for all
     * @param passRows the query positions of the rows a head pass measures ({@link HeadPass}: a PADDED head
     *                 is FULL on its first len positions)
     */
    private record Layout(Visibility visibility, int[] queries, int[] keys, int[] passRows) {
    }

    /** A self-attention sequence compacted to the visible keys as the class javadoc says. */
    private static Layout selfLayout(LayerCapture c, boolean[] keyVisible) {
        int n = keyVisible.length;
        int visible = count(keyVisible);
        int prefix = 0;
        while (prefix < n && keyVisible[prefix]) {
            prefix++;
        }
        if (c.causal() || visible == n) {
            return new Layout(c.causal() ? Visibility.CAUSAL : Visibility.FULL, null, null, range(n));
        }
        if (prefix == visible) {
            return new Layout(Visibility.padded(prefix), null, null, range(prefix));
        }
        int[] keep = indices(keyVisible);
        return new Layout(Visibility.FULL, keep, keep, keep);
    }

    /** A cross-attention sequence: the existing queries over the visible keys, FULL. */
    private static Layout crossLayout(boolean[] queryVisible, boolean[] keyVisible) {
        int[] queries = indices(queryVisible);
        return new Layout(Visibility.FULL, queries, indices(keyVisible), queries);
    }

    /** One sequence's heads, kept as the layout says; {@code owned} as for {@link HeadInput}, and so are kept rows. */
    private static List<HeadInput> inputs(double[][] qh, double[][] kh, double[][] vh, int d, int dv, Layout layout,
                                          double tau, DataType type, boolean owned) {
        List<HeadInput> out = new ArrayList<>();
        for (int h = 0; h < qh.length; h++) {
            out.add(HeadInput.of(rows(qh[h], d, layout.queries()), rows(kh[h], d, layout.keys()),
                    vh[h] == null ? null : rows(vh[h], dv, layout.keys()), d, type, layout.visibility(), tau,
                    owned || layout.queries() != null));
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

    private static int[] range(int n) {
        return IntStream.range(0, n).toArray();
    }

    /** The positions that are true, in order. */
    static int[] indices(boolean[] visible) {
        int[] out = new int[count(visible)];
        for (int j = 0, c = 0; j < visible.length; j++) {
            if (visible[j]) {
                out[c++] = j;
            }
        }
        return out;
    }
}
