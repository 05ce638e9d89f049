package dev.headwatch.core.math;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The Jensen-Shannon divergence from the rows' logarithms against the plain one, on rows softmax makes. */
class EntropyTest {

    /** A softmax row as the head pass makes it: attention, energy, {@code c} with {@code ln A = E + c}, {@code sum A ln A}. */
    private record Row(double[] a, double[] e, double c, double plogp) {
        static Row of(double[] s) {
            int len = s.length;
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (double x : s) {
                max = Math.max(max, x);
                sum += x;
            }
            double mean = sum / len;
            double[] a = new double[len];
            double[] e = new double[len];
            double z = 0, t = 0;
            for (int j = 0; j < len; j++) {
                e[j] = s[j] - mean;
                a[j] = Math.exp(s[j] - max);
                z += a[j];
                t += a[j] * (s[j] - max);
            }
            for (int j = 0; j < len; j++) {
                a[j] /= z;
            }
            return new Row(a, e, mean - max - Math.log(z), t / z - Math.log(z));
        }
    }

    private static double fast(Row p, Row q, int len) {
        double[] lnP = new double[len], lnQ = new double[len];
        Entropy.logRow(p.e, 0, p.c, len, lnP, 0);
        Entropy.logRow(q.e, 0, q.c, len, lnQ, 0);
        return Entropy.jensenShannon(p.a, lnP, p.plogp, q.a, lnQ, q.plogp, len, new double[len], new double[len]);
    }

    @Test
    void fromLogarithms_matchesThePlainDivergence_fromUniformToUnderflowingRows() {
        SplittableRandom random = new SplittableRandom(17);
        double[] scales = {0, 1e-3, 0.3, 1, 3, 10, 40, 200, 2000};
        int[] lengths = {2, 3, 7, 64, 1000, 1024};
        for (int len : lengths) {
            for (double sp : scales) {
                for (double sq : scales) {
                    double[] s = new double[len], t = new double[len];
                    for (int j = 0; j < len; j++) {
                        s[j] = sp * random.nextGaussian();
                        t[j] = sq * random.nextGaussian() + (j == 0 ? 5 * sq : 0); // a sink at key 0
                    }
                    Row p = Row.of(s), q = Row.of(t);
                    double plain = Entropy.jensenShannon(p.a, 0, q.a, 0, len);
                    // both carry the rounding of the logits, eps |S| per unit of mass
                    double largest = 0;
                    for (int j = 0; j < len; j++) {
                        largest = Math.max(largest, Math.max(Math.abs(s[j]), Math.abs(t[j])));
                    }
                    double tol = 1e-14 * (20 + largest);
                    assertThat(fast(p, q, len)).as("len %d, scales %s %s", len, sp, sq).isCloseTo(plain, within(tol));
                    assertThat(fast(p, p, len)).isCloseTo(0.0, within(tol));
                    assertThat(fast(q, p, len)).isEqualTo(fast(p, q, len));
                }
            }
        }
    }

    @Test
    void fromLogarithms_isNaN_whenARowIs() {
        Row p = Row.of(new double[] {0, 1, Double.NaN}), q = Row.of(new double[] {0, 1, 2});
        assertThat(fast(p, q, 3)).isNaN();
        assertThat(Entropy.jensenShannon(p.a, 0, q.a, 0, 3)).isNaN();
    }
}
