package dev.headwatch.core;

import dev.headwatch.core.LayerCapture.Recurrence;
import dev.headwatch.core.LayerCapture.Sequence;
import dev.headwatch.core.math.Products;
import dev.headwatch.core.math.Softmax;

import java.util.Arrays;
import java.util.List;

/**
 * The check that the core reads a layer right, {@code reconstructionError} (METRICS.md item 4): the layer's
 * output rebuilt from its heads' attention outputs {@code A_h V_h}, side by side, times Wo (and through a
 * recurrent layer's step), against the output the layer produced, over the existing query rows.
 *
 * <p>{@link LayerRebuild} begins it with what the rebuild needs per sequence and attends itself the heads
 * and the query rows that no head pass will measure (heads left out of the measurement, or all of them under
 * another analyzer; rows that a mask keeps out of the heads but the layer still outputs). The layer's
 * measurement hands in every other head's attention as its {@link HeadPass} computes it
 * ({@link #attended}), so each head's logits and softmax are computed once, and {@code A V} too where the pass
 * formed it for the linear gap; then {@link #error()}.
 */
final class Reconstruction {

    private final LayerCapture layer;
    /** Per sequence of the layer's input, what its check needs, or null when it is not checked. */
    private final List<Part> parts;

    Reconstruction(LayerCapture layer, List<Part> parts) {
        this.layer = layer;
        this.parts = parts;
    }

    /**
     * Begins one sequence's check: its heads' attention outputs, {@code [Tq, width]}, to fill.
     *
     * @param counted  the query rows whose output the error compares (the existing ones)
     * @param passRows the query position of each row of a head pass
     * @throws IllegalArgumentException when the rebuilt output would not have the layer output's width
     */
    static Part part(LayerCapture layer, Sequence s, boolean[] counted, int width, int[] passRows) {
        int tq = s.queryPositions();
        int cols = outputWidth(layer, s, width);
        if (cols * tq != s.output().length) {
            throw new IllegalArgumentException("layer " + layer.layer() + ": the rebuilt output has " + cols
                    + " columns but the layer's output " + s.output().length / tq);
        }
        // the rows the error reads: a recurrent layer's output at t reads the attention of query t - 1
        boolean[] needed = new boolean[tq];
        for (int i = 0; i < tq; i++) {
            needed[i] = layer.recurrence() == null ? counted[i] : i + 1 < tq && counted[i + 1];
        }
        boolean[] outsidePass = needed.clone();
        for (int i : passRows) {
            outsidePass[i] = false;
        }
        return new Part(s, counted, width / layer.heads(), width, passRows, LayerRebuild.indices(needed),
                LayerRebuild.indices(outsidePass), new double[tq * width], new boolean[layer.heads()]);
    }

    /**
     * Head h's attention output from its head pass ({@code values}: the V its pass read), for the rows
     * the pass holds: the {@link HeadPass#attended} product of its linear gap when it has one, else
     * {@code A V} formed here. For a float32 head the former is rounded to float32, which moves the error
     * by about 1e-7 of the output against the float64 {@code A V}, far below the float32 model's own rounding.
     * Heads of one sequence may come in at once from different threads.
     */
    void attended(int sequence, int h, HeadPass pass, double[] values) {
        Part part = parts.get(sequence);
        if (part == null) {
            return;
        }
        if (pass.n != part.passRows.length) {
            throw new IllegalStateException("layer " + layer.layer() + ": head " + h + "'s pass holds " + pass.n
                    + " rows, the rebuild expected " + part.passRows.length);
        }
        part.place(h, part.passRows, pass.attended != null ? pass.attended
                : Products.multiply(pass.attention, pass.n, pass.keys, values, part.dv));
        part.done[h] = true;
    }

    /**
     * {@code |y - y_hat|_F / |y|_F} over every checked sequence's existing rows; NaN when nothing is checked.
     *
     * @throws IllegalStateException when a head's attention was neither attended here nor handed in
     */
    double error() {
        double err2 = 0;
        double norm2 = 0;
        for (Part part : parts) {
            if (part == null) {
                continue;
            }
            for (int h = 0; h < part.done.length; h++) {
                if (!part.done[h]) {
                    throw new IllegalStateException("layer " + layer.layer() + ": head " + h
                            + "'s attention was not handed in");
                }
            }
            Sequence s = part.sequence;
            double[] rebuilt = output(s, part.attended, part.width);
            int tq = s.queryPositions();
            int cols = rebuilt.length / tq;
            for (int i = 0; i < tq; i++) {
                if (part.counted[i]) {
                    for (int j = i * cols; j < (i + 1) * cols; j++) {
                        double y = s.output()[j];
                        err2 += (y - rebuilt[j]) * (y - rebuilt[j]);
                        norm2 += y * y;
                    }
                }
            }
        }
        return norm2 > 0 ? Math.sqrt(err2 / norm2) : Double.NaN;
    }

    /** Columns of the rebuilt output: those of Wo, or of the recurrence's input weights. */
    private static int outputWidth(LayerCapture layer, Sequence s, int width) {
        if (layer.recurrence() != null) {
            return layer.recurrence().inputWeights().length / (s.queries().length / s.queryPositions());
        }
        return layer.projections() != null ? layer.projections().wo().length / width : width;
    }

    /** The layer's output rebuilt from the heads' attention outputs side by side ({@code [Tq, cols]}). */
    private double[] output(Sequence s, double[] attended, int cols) {
        int tq = s.queryPositions();
        double[] att = attended;
        if (layer.projections() != null) {
            double[] wo = layer.projections().wo();
            att = Products.multiply(attended, tq, cols, wo, wo.length / cols);
            cols = wo.length / cols;
        }
        Recurrence r = layer.recurrence();
        if (r == null) {
            return att;
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

    /** One sequence's check. */
    static final class Part {
        private final Sequence sequence;
        /** The query rows whose output the error compares. */
        private final boolean[] counted;
        private final int dv;
        /** Columns of {@link #attended}: the heads' dv side by side. */
        private final int width;
        /** The query position of each row of a head pass. */
        private final int[] passRows;
        /** The query rows the error reads, in order. */
        private final int[] needed;
        /** Those of {@link #needed} that no head pass holds. */
        private final int[] outsidePass;
        /** The heads' attention outputs side by side, {@code [Tq, width]}. */
        private final double[] attended;
        /** Per head, whether its attention is in. */
        private final boolean[] done;

        private Part(Sequence sequence, boolean[] counted, int dv, int width, int[] passRows, int[] needed,
                     int[] outsidePass, double[] attended, boolean[] done) {
            this.sequence = sequence;
            this.counted = counted;
            this.dv = dv;
            this.width = width;
            this.passRows = passRows;
            this.needed = needed;
            this.outsidePass = outsidePass;
            this.attended = attended;
            this.done = done;
        }

        /**
         * Attends here head h's rows that no pass will hand in: all the rows the error reads, or with
         * {@code fromPass} only those outside the pass. Softmax attention {@code softmax(tau q k^T) v}, row
         * i over the visible keys j (and {@code j <= i} when causal).
         */
        void attendHere(int h, boolean fromPass, double[] q, double[] k, double[] v, int tk, int d, double tau,
                        boolean[] keyVisible, boolean causal) {
            int[] rows = fromPass ? outsidePass : needed;
            done[h] = !fromPass;
            if (rows.length == 0) {
                return;
            }
            double[] qRows = new double[rows.length * d];
            for (int r = 0; r < rows.length; r++) {
                System.arraycopy(q, rows[r] * d, qRows, r * d, d);
            }
            double[] s = Products.multiplyByTranspose(qRows, rows.length, d, k, tk);
            for (int r = 0; r < rows.length; r++) {
                int row = r * tk;
                int len = causal ? rows[r] + 1 : tk;
                for (int j = 0; j < len; j++) {
                    s[row + j] *= tau;
                }
                Softmax.row(s, row, len, keyVisible);
                Arrays.fill(s, row + len, row + tk, 0);
            }
            place(h, rows, Products.multiply(s, rows.length, tk, v, dv));
        }

        /** Rows {@code [rows.length, dv]} of head h's attention output into their query positions. */
        private void place(int h, int[] rows, double[] out) {
            for (int r = 0; r < rows.length; r++) {
                System.arraycopy(out, r * dv, attended, rows[r] * width + h * dv, dv);
            }
        }
    }
}
