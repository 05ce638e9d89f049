package dev.headwatch.core;

import dev.headwatch.core.LayerCapture.Nonlinearity;
import dev.headwatch.core.LayerCapture.Projections;
import dev.headwatch.core.LayerCapture.Recurrence;
import dev.headwatch.core.LayerCapture.Sequence;
import dev.headwatch.core.math.Products;
import dev.headwatch.core.math.Softmax;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntPredicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * {@code reconstructionError} from the attention the head passes compute equals the rebuild that attends every
 * head by itself ({@link #referenceError}: the former computation, kept here as the reference) on every kind
 * of layer the rebuild reads: masks that pad or leave holes, queries the heads do not hold, causal,
 * cross-attention, recurrent, unprojected, without values or output; with every head measured, some, or
 * another analyzer. The outputs are the reference's rebuild plus noise, so that the error is far from 0 and a
 * misplaced row or head would show. Float64 layers agree to rounding; float32 layers' heads compute on the
 * float32 Q, K, V, so they agree to float32 rounding.
 */
class ReconstructionTest {

    private static final double DOUBLE_ROUNDING = 1e-12;
    private static final double FLOAT_ROUNDING = 1e-5;
    private final SplittableRandom random = new SplittableRandom(23);

    @Test
    void errorFromTheHeadPasses_equalsTheRebuildThatAttendsEveryHead_onEveryLayerKind() {
        for (boolean isDouble : new boolean[] {true, false}) {
            List<LayerCapture> layers = List.of(
                    projected("full", isDouble, null, null, 2),
                    projected("padded", isDouble, mask(6, 0, 1, 2, 3), mask(6, 0, 1, 2, 3), 2),
                    projected("paddedKeysOnly", isDouble, null, mask(6, 0, 1, 2, 3), 1),
                    projected("hole", isDouble, mask(6, 0, 2, 3, 4, 5), mask(6, 0, 2, 3, 4, 5), 2),
                    projected("holeKeysOnly", isDouble, null, mask(6, 0, 2, 3, 4, 5), 1),
                    causal(isDouble),
                    cross(isDouble),
                    recurrent(isDouble));
            for (LayerCapture c : layers) {
                double expected = referenceError(c);
                assertThat(expected).as(c.layer()).isBetween(1e-3, 10.0);
                double tolerance = isDouble ? DOUBLE_ROUNDING : FLOAT_ROUNDING;
                String what = c.layer() + (isDouble ? " float64" : " float32");
                assertThat(measured(c, h -> true, LayerAnalyzer.standard())).as(what).isCloseTo(expected, within(tolerance));
                assertThat(measured(c, h -> h != 1, LayerAnalyzer.standard())).as(what + ", heads 0 and 2")
                        .isCloseTo(expected, within(tolerance));
                LayerAnalyzer another = heads -> LayerAnalysis.compute(heads);
                assertThat(measured(c, h -> true, another)).as(what + ", another analyzer")
                        .isCloseTo(expected, within(tolerance));
                assertThat(LayerRebuild.of(c).reconstructionError()).as(what + ", rebuild alone")
                        .isCloseTo(expected, within(DOUBLE_ROUNDING));
            }
        }
    }

    @Test
    void withoutValuesOrOutput_theErrorIsNaN() {
        LayerCapture full = projected("full", true, null, null, 1);
        Sequence s = full.sequences().get(0);
        for (Sequence without : List.of(new Sequence(s.queryPositions(), s.queries(), s.keyPositions(), s.keys(), null,
                        s.output(), null, null),
                new Sequence(s.queryPositions(), s.queries(), s.keyPositions(), s.keys(), s.values(), null, null, null))) {
            LayerCapture c = new LayerCapture("none", full.heads(), full.headSize(), full.scale(), true, false,
                    full.projections(), null, List.of(without));
            assertThat(referenceError(c)).isNaN();
            assertThat(measured(c, h -> true, LayerAnalyzer.standard())).isNaN();
        }
    }

    private static double measured(LayerCapture c, IntPredicate heads, LayerAnalyzer analyzer) {
        LayerObservation o = LayerObservation.of(c, heads, analyzer).orElseThrow();
        assertThat(o.records()).extracting(r -> r.metrics().reconstructionError())
                .containsOnly(o.records().get(0).metrics().reconstructionError());
        double error = o.records().get(0).metrics().reconstructionError();
        assertThat(Double.valueOf(o.input().reconstructionError())).isEqualTo(Double.valueOf(error));
        return error;
    }

    // ---------------------------------------------------------------------------------------------
    // layers: three heads of size 4 over inputs of width 5; outputs the reference's rebuild plus noise

    private LayerCapture projected(String name, boolean isDouble, boolean[] queries, boolean[] keys, int sequences) {
        Projections p = projections(5, 5, 3);
        List<Sequence> list = new ArrayList<>();
        for (int s = 0; s < sequences; s++) {
            double[] x = random(6 * 5);
            list.add(new Sequence(6, x, 6, x, x, null, queries, keys));
        }
        return withOutputs(new LayerCapture(name, 3, 4, Double.NaN, isDouble, false, p, null, list));
    }

    private LayerCapture causal(boolean isDouble) {
        int t = 6;
        double[] q = random(t * 12);
        return withOutputs(new LayerCapture("causal", 3, 4, 0.7, isDouble, true, null, null,
                List.of(new Sequence(t, q, t, random(t * 12), random(t * 12), null, null, null))));
    }

    private LayerCapture cross(boolean isDouble) {
        double[] xk = random(7 * 5);
        return withOutputs(new LayerCapture("cross", 3, 4, 0.5, isDouble, false, projections(2, 5, 6), null,
                List.of(new Sequence(4, random(4 * 2), 7, xk, xk, null, mask(4, 0, 2, 3), mask(7, 0, 1, 3, 4, 6)))));
    }

    /** A recurrent layer of output width 5: its queries are its outputs, so they are drawn first. */
    private LayerCapture recurrent(boolean isDouble) {
        int t = 6;
        Projections p = projections(5, 5, 4);
        Recurrence r = new Recurrence(random(5 * 5), random(4 * 5), random(5), Nonlinearity.TANH, Double.NaN);
        double[] x = random(t * 5);
        return withOutputs(new LayerCapture("recurrent", 3, 4, Double.NaN, isDouble, false, p, r,
                List.of(new Sequence(t, x, t, x, x, random(t * 5), null, null))));
    }

    private Projections projections(int nInQ, int nInK, int nOut) {
        return new Projections(random(12 * nInQ), random(12 * nInK), random(12 * nInK), random(12 * nOut));
    }

    /** The capture with each output the reference's rebuild of it (a recurrent one keeps its own) plus noise. */
    private LayerCapture withOutputs(LayerCapture c) {
        List<Sequence> out = new ArrayList<>();
        for (Sequence s : c.sequences()) {
            double[] y = c.recurrence() != null ? s.output() : rebuilt(c, s, s.queries());
            double[] noisy = y.clone();
            for (int i = 0; i < noisy.length; i++) {
                noisy[i] += 0.05 * random.nextDouble(-1, 1);
            }
            out.add(new Sequence(s.queryPositions(), s.queries(), s.keyPositions(), s.keys(), s.values(), noisy,
                    s.queryVisible(), s.keyVisible()));
        }
        return new LayerCapture(c.layer(), c.heads(), c.headSize(), c.scale(), c.doublePrecision(), c.causal(),
                c.projections(), c.recurrence(), out);
    }

    private static boolean[] mask(int n, int... visible) {
        boolean[] m = new boolean[n];
        for (int i : visible) {
            m[i] = true;
        }
        return m;
    }

    private double[] random(int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = random.nextDouble(-1, 1);
        }
        return a;
    }

    // ---------------------------------------------------------------------------------------------
    // the reference: every head attended over the whole sequence, in float64, then the layer's output

    /** {@code |y - y_hat|_F / |y|_F} over the existing query rows of the sequences with a visible key. */
    static double referenceError(LayerCapture c) {
        double err2 = 0;
        double norm2 = 0;
        for (Sequence s : c.sequences()) {
            int tq = s.queryPositions();
            boolean[] queryVisible = s.queryVisible() != null ? s.queryVisible() : all(tq);
            boolean[] keyVisible = s.keyVisible() != null ? s.keyVisible() : all(s.keyPositions());
            if (count(keyVisible) == 0 || count(queryVisible) == 0 || s.values() == null || s.output() == null
                    || (c.recurrence() != null && c.recurrence().activation() == null)) {
                continue;
            }
            double[] rebuilt = rebuilt(c, s, c.recurrence() != null ? s.output() : s.queries());
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
        return norm2 > 0 ? Math.sqrt(err2 / norm2) : Double.NaN;
    }

    /** The layer's output from the query input {@code xq}: every head's attention side by side, then Wo and the recurrence. */
    private static double[] rebuilt(LayerCapture c, Sequence s, double[] xq) {
        int heads = c.heads();
        int hs = c.headSize();
        double tau = Double.isNaN(c.scale()) ? 1.0 / Math.sqrt(hs) : c.scale();
        Projections p = c.projections();
        int tq = s.queryPositions();
        int tk = s.keyPositions();
        boolean[] keyVisible = s.keyVisible() != null ? s.keyVisible() : all(tk);
        int nInQ = xq.length / tq;
        int nInK = s.keys().length / tk;
        int nInV = s.values().length / tk;
        int dv = p != null ? hs : nInV / heads;
        double[] attended = new double[tq * heads * dv];
        for (int h = 0; h < heads; h++) {
            double[] q = head(xq, tq, nInQ, p == null ? null : p.wq(), h, hs);
            double[] k = head(s.keys(), tk, nInK, p == null ? null : p.wk(), h, hs);
            double[] v = head(s.values(), tk, nInV, p == null ? null : p.wv(), h, dv);
            double[] out = attend(q, k, v, tq, tk, hs, dv, tau, keyVisible, c.causal());
            for (int i = 0; i < tq; i++) {
                System.arraycopy(out, i * dv, attended, i * heads * dv + h * dv, dv);
            }
        }
        return output(c, s, attended, heads * dv);
    }

    private static double[] head(double[] in, int rows, int nIn, double[] w, int h, int size) {
        if (w != null) {
            return Products.multiplyByTranspose(in, rows, nIn, w, h * size * nIn, size);
        }
        double[] out = new double[rows * size];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(in, i * nIn + h * size, out, i * size, size);
        }
        return out;
    }

    private static double[] attend(double[] q, double[] k, double[] v, int tq, int tk, int d, int dv, double tau,
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
}
