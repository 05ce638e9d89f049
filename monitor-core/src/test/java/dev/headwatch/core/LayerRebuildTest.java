package dev.headwatch.core;

import dev.headwatch.core.LayerCapture.Nonlinearity;
import dev.headwatch.core.LayerCapture.Projections;
import dev.headwatch.core.LayerCapture.Recurrence;
import dev.headwatch.core.LayerCapture.Sequence;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * The core's reading of a capture against the definition written out loop by loop: per head
 * {@code Q_h = X_q Wq_h^T}, {@code softmax(tau Q_h K_h^T) V_h} over the visible keys, the heads side by side times
 * {@code Wo}; in float64, so a capture whose output is the definition's rebuilds to ~1e-15.
 */
class LayerRebuildTest {

    private static final double EXACT = 1e-12;
    private final SplittableRandom random = new SplittableRandom(19);

    @Test
    void projected_headsAndOutput_matchTheDefinition_overShapesAndMasks() {
        for (int heads : new int[] {1, 3}) {
            for (int hs : new int[] {1, 4}) {
                for (int t : new int[] {1, 5}) {
                    for (boolean[] mask : masks(t)) {
                        int nIn = 3;
                        int nOut = 2;
                        Projections p = new Projections(random(heads * hs * nIn), random(heads * hs * nIn),
                                random(heads * hs * nIn), random(heads * hs * nOut));
                        double[] x = random(t * nIn);
                        double[] y = reference(p, heads, hs, x, t, x, t, mask, 1 / Math.sqrt(hs), false);
                        LayerCapture c = new LayerCapture("att", heads, hs, Double.NaN, true, false, p, null,
                                List.of(new Sequence(t, x, t, x, x, y, mask, mask)));
                        LayerInput in = LayerRebuild.of(c);
                        String shape = "H=" + heads + " hs=" + hs + " t=" + t + " mask=" + java.util.Arrays.toString(mask);
                        assertThat(in.reconstructionError()).as(shape).isBetween(0.0, EXACT);
                        int[] kept = kept(mask, t);
                        for (int h = 0; h < heads; h++) {
                            HeadInput head = in.sequences().get(0).get(h);
                            assertThat(head.n()).as(shape).isEqualTo(kept.length);
                            double[] q = head.queryRows();
                            for (int i = 0; i < kept.length; i++) {
                                for (int r = 0; r < hs; r++) {
                                    assertThat(q[i * hs + r]).as(shape).isCloseTo(
                                            dot(x, kept[i] * nIn, p.wq(), (h * hs + r) * nIn, nIn), within(EXACT));
                                }
                            }
                        }
                        assertThat(in.sequences().get(0).get(0).visibility()).as(shape).isEqualTo(visibility(mask, t));
                    }
                }
            }
        }
    }

    @Test
    void float32_headsAreTheRoundedProjectionsExactly_andTheCaptureIsLeftAsItWas() {
        int heads = 3, hs = 4, nIn = 5, t = 6;
        Projections p = new Projections(random(heads * hs * nIn), random(heads * hs * nIn), random(heads * hs * nIn),
                random(heads * hs * 2));
        double[] x = random(t * nIn);
        double[] y = reference(p, heads, hs, x, t, x, t, null, 0.5, false);
        List<double[]> before = List.of(x.clone(), y.clone(), p.wq().clone(), p.wk().clone(), p.wv().clone(),
                p.wo().clone());
        LayerInput in = LayerRebuild.of(new LayerCapture("att", heads, hs, 0.5, false, false, p, null,
                List.of(new Sequence(t, x, t, x, x, y, null, null))));
        assertThat(in.reconstructionError()).isBetween(0.0, EXACT);
        for (int h = 0; h < heads; h++) {
            HeadInput head = in.sequences().get(0).get(h);
            double[][] rows = {head.queryRows(), head.keyRows(), head.valueRows()};
            double[][] weights = {p.wq(), p.wk(), p.wv()};
            for (int m = 0; m < 3; m++) {
                for (int i = 0; i < t; i++) {
                    for (int r = 0; r < hs; r++) {
                        assertThat(rows[m][i * hs + r]).isEqualTo((float) dot(x, i * nIn, weights[m], (h * hs + r) * nIn, nIn));
                    }
                }
            }
        }
        assertThat(List.of(x, y, p.wq(), p.wk(), p.wv(), p.wo())).zipSatisfy(before, (a, b) -> assertThat(a).isEqualTo(b));
    }

    @Test
    void cross_keepsTheExistingQueriesOverTheVisibleKeys_full() {
        int heads = 2;
        int hs = 3;
        Projections p = new Projections(random(heads * hs * 2), random(heads * hs * 4), random(heads * hs * 4),
                random(heads * hs * 5));
        double[] xq = random(3 * 2);
        double[] xk = random(5 * 4);
        boolean[] queries = {true, false, true};
        boolean[] keys = {true, true, false, true, true};
        double[] y = reference(p, heads, hs, xq, 3, xk, 5, keys, 0.5, false);
        LayerInput in = LayerRebuild.of(new LayerCapture("cross", heads, hs, 0.5, true, false, p, null,
                List.of(new Sequence(3, xq, 5, xk, xk, y, queries, keys))));
        assertThat(in.reconstructionError()).isBetween(0.0, EXACT);
        assertThat(in.sequences().get(0)).allSatisfy(h -> {
            assertThat(h.n()).isEqualTo(2);
            assertThat(h.nk()).isEqualTo(4);
            assertThat(h.visibility()).isEqualTo(Visibility.FULL);
            assertThat(h.scale()).isEqualTo(0.5);
        });
    }

    @Test
    void unprojectedCausal_headsSideBySide_rowsSeeOnlyEarlierKeys() {
        int heads = 2;
        int hs = 3;
        int t = 6;
        double[] q = random(t * heads * hs);
        double[] k = random(t * heads * hs);
        double[] v = random(t * heads * hs);
        double[] y = new double[t * heads * hs];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < t; i++) {
                double[] w = new double[i + 1];
                double z = 0;
                for (int j = 0; j <= i; j++) {
                    w[j] = Math.exp(0.7 * dot(q, i * heads * hs + h * hs, k, j * heads * hs + h * hs, hs));
                    z += w[j];
                }
                for (int c = 0; c < hs; c++) {
                    for (int j = 0; j <= i; j++) {
                        y[i * heads * hs + h * hs + c] += w[j] / z * v[j * heads * hs + h * hs + c];
                    }
                }
            }
        }
        LayerInput in = LayerRebuild.of(new LayerCapture("causal", heads, hs, 0.7, true, true, null, null,
                List.of(new Sequence(t, q, t, k, v, y, null, null))));
        assertThat(in.reconstructionError()).isBetween(0.0, EXACT);
        assertThat(in.sequences().get(0)).extracting(HeadInput::visibility).containsOnly(Visibility.CAUSAL);
        assertThat(in.qkSpectralNorms()).containsOnly(Double.NaN);
    }

    @Test
    void recurrent_rebuildsItsActivation_orReportsNaNForOneItDoesNotApply() {
        int t = 4;
        int n = 3;
        double[] x = random(t * n);
        double[] w = random(n * n);
        double[] rw = random(n * n);
        double[] b = random(n);
        // h_t = tanh(x_t W + b + attn(h_{t-1}) R): the queries are the outputs, one step late
        double[] y = new double[t * n];
        double[] prev = null;
        for (int s = 0; s < t; s++) {
            for (int j = 0; j < n; j++) {
                double z = b[j];
                for (int i = 0; i < n; i++) {
                    z += x[s * n + i] * w[i * n + j] + (prev == null ? 0 : prev[i] * rw[i * n + j]);
                }
                y[s * n + j] = Math.tanh(z);
            }
            // attention of the query y_s over every input step, used at step s + 1
            prev = attentionRow(y, s, x, t, n);
        }
        Sequence seq = new Sequence(t, x, t, x, x, y, null, null);
        LayerInput tanh = LayerRebuild.of(new LayerCapture("rnn", 1, n, Double.NaN, true, false, null,
                new Recurrence(w, rw, b, Nonlinearity.TANH, Double.NaN), List.of(seq)));
        LayerInput unknown = LayerRebuild.of(new LayerCapture("rnn", 1, n, Double.NaN, true, false, null,
                new Recurrence(w, rw, b, null, Double.NaN), List.of(seq)));
        assertThat(tanh.reconstructionError()).isBetween(0.0, EXACT);
        assertThat(unknown.reconstructionError()).isNaN();
        assertThat(unknown.sequences().get(0).get(0).queryRows()).containsExactly(y);
    }

    @Test
    void aWrongOutput_isMeasured_andFloatHeadsAreRoundedToFloat() {
        double[] x = random(4 * 2);
        Projections p = new Projections(random(2 * 2), random(2 * 2), random(2 * 2), random(2 * 2));
        double[] y = reference(p, 1, 2, x, 4, x, 4, null, 1 / Math.sqrt(2), false);
        double[] doubled = y.clone();
        for (int i = 0; i < doubled.length; i++) {
            doubled[i] *= 2;
        }
        LayerInput in = LayerRebuild.of(new LayerCapture("att", 1, 2, Double.NaN, false, false, p, null,
                List.of(new Sequence(4, x, 4, x, x, doubled, null, null))));
        // |2y - y| / |2y| = 1/2
        assertThat(in.reconstructionError()).isCloseTo(0.5, within(EXACT));
        HeadInput head = in.sequences().get(0).get(0);
        for (double v : head.queryRows()) {
            assertThat(v).isEqualTo((double) (float) v);
        }
    }

    @Test
    void nothingVisible_leavesTheSequenceOut() {
        double[] x = random(3);
        LayerInput in = LayerRebuild.of(new LayerCapture("att", 1, 1, Double.NaN, true, false, null, null,
                List.of(new Sequence(3, x, 3, x, x, x, null, new boolean[3]))));
        assertThat(in.sequences()).isEmpty();
        assertThat(in.reconstructionError()).isNaN();
    }

    @Test
    void arraysThatDoNotFitTheLayout_nameBothSides() {
        Projections p = new Projections(random(2 * 3), random(2 * 3), random(2 * 3), random(2 * 3));
        LayerCapture c = new LayerCapture("att", 1, 2, Double.NaN, true, false, p, null,
                List.of(new Sequence(2, random(2 * 4), 2, random(2 * 4), random(2 * 4), null, null, null)));
        assertThatThrownBy(() -> LayerRebuild.of(c)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("layer att").hasMessageContaining("4 columns").hasMessageContaining("takes 3");
        assertThatThrownBy(() -> new LayerCapture("att", 2, 3, Double.NaN, true, false,
                new Projections(random(5), random(6), random(6), random(6)), null, List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("5 values");
    }

    // ---------------------------------------------------------------------------------------------
    // the definition, loop by loop

    /**
     * The layer output {@code [tq, nOut]}: per head softmax attention of the projected queries over the visible
     * projected keys, the heads side by side, times Wo.
     */
    private static double[] reference(Projections p, int heads, int hs, double[] xq, int tq, double[] xk, int tk,
                                      boolean[] keyVisible, double tau, boolean causal) {
        int nInQ = p.wq().length / (heads * hs);
        int nInK = p.wk().length / (heads * hs);
        int nOut = p.wo().length / (heads * hs);
        double[] y = new double[tq * nOut];
        for (int i = 0; i < tq; i++) {
            double[] concat = new double[heads * hs];
            for (int h = 0; h < heads; h++) {
                double[] w = new double[tk];
                double z = 0;
                for (int j = 0; j < tk; j++) {
                    if ((keyVisible == null || keyVisible[j]) && (!causal || j <= i)) {
                        double s = 0;
                        for (int r = 0; r < hs; r++) {
                            s += dot(xq, i * nInQ, p.wq(), (h * hs + r) * nInQ, nInQ)
                                    * dot(xk, j * nInK, p.wk(), (h * hs + r) * nInK, nInK);
                        }
                        w[j] = Math.exp(tau * s);
                        z += w[j];
                    }
                }
                for (int r = 0; r < hs; r++) {
                    for (int j = 0; j < tk; j++) {
                        concat[h * hs + r] += w[j] / z * dot(xk, j * nInK, p.wv(), (h * hs + r) * nInK, nInK);
                    }
                }
            }
            for (int o = 0; o < nOut; o++) {
                for (int c = 0; c < heads * hs; c++) {
                    y[i * nOut + o] += concat[c] * p.wo()[c * nOut + o];
                }
            }
        }
        return y;
    }

    /** One head, no projection, scale 1/sqrt(n): the attention of query row s of {@code q} over all rows of x. */
    private static double[] attentionRow(double[] q, int s, double[] x, int t, int n) {
        double[] w = new double[t];
        double z = 0;
        for (int j = 0; j < t; j++) {
            w[j] = Math.exp(dot(q, s * n, x, j * n, n) / Math.sqrt(n));
            z += w[j];
        }
        double[] out = new double[n];
        for (int j = 0; j < t; j++) {
            for (int c = 0; c < n; c++) {
                out[c] += w[j] / z * x[j * n + c];
            }
        }
        return out;
    }

    private static double dot(double[] a, int ao, double[] b, int bo, int len) {
        double s = 0;
        for (int l = 0; l < len; l++) {
            s += a[ao + l] * b[bo + l];
        }
        return s;
    }

    /** No mask, ones then zeros, and a hole (when there are enough positions). */
    private static List<boolean[]> masks(int t) {
        if (t < 3) {
            return java.util.Collections.singletonList(null);
        }
        boolean[] padded = new boolean[t];
        java.util.Arrays.fill(padded, 0, t - 2, true);
        boolean[] hole = new boolean[t];
        java.util.Arrays.fill(hole, true);
        hole[1] = false;
        return java.util.Arrays.asList(null, padded, hole);
    }

    private static int[] kept(boolean[] mask, int t) {
        if (mask == null || visibility(mask, t).kind() == Visibility.Kind.PADDED) {
            return java.util.stream.IntStream.range(0, t).toArray();
        }
        return java.util.stream.IntStream.range(0, t).filter(i -> mask[i]).toArray();
    }

    private static Visibility visibility(boolean[] mask, int t) {
        if (mask == null) {
            return Visibility.FULL;
        }
        int visible = 0;
        for (boolean b : mask) {
            visible += b ? 1 : 0;
        }
        int prefix = 0;
        while (prefix < t && mask[prefix]) {
            prefix++;
        }
        return prefix == visible && visible < t ? Visibility.padded(visible) : Visibility.FULL;
    }

    private double[] random(int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = random.nextDouble(-1, 1);
        }
        return a;
    }
}
