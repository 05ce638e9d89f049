package dev.headwatch.core.math;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LinearGapProductTest {

    private static final int[][] SHAPES = {{32, 32, 16}, {7, 5, 3}, {1, 9, 1}, {13, 13, 6}, {64, 31, 17}};

    @Test
    void blockedProduct_isExactlyTheRowByRowOne_inBothPrecisions() {
        for (int[] s : SHAPES) {
            int n = s[0], m = s[1], dv = s[2];
            SplittableRandom random = new SplittableRandom(n * 1000L + m * 10L + dv);
            double[] a = attention(random, n, m);
            double[] vc = gaussian(random, m * dv);
            for (boolean single : new boolean[] {true, false}) {
                assertThat(LinearGap.javaProduct(a, vc.clone(), n, m, dv, single, new double[Math.min(n, 4) * m]))
                        .containsExactly(LinearGap.rowByRow(a, vc, n, m, dv, single));
            }
        }
    }

    /**
     * The gap is exactly that of plain loops in the documented order: {@code Kc^T Vc} summed over the keys
     * in order, {@code A Vc} row by row, {@code Q C^T} over the head dimension in order.
     */
    @Test
    void gap_isExactlyThatOfPlainLoopsInTheDocumentedOrder() {
        int[][] shapes = {{32, 32, 16, 16}, {7, 5, 3, 4}, {1, 9, 2, 1}, {13, 13, 5, 6}, {64, 31, 9, 17}};
        for (int[] s : shapes) {
            int n = s[0], m = s[1], d = s[2], dv = s[3];
            SplittableRandom random = new SplittableRandom(n * 1000L + m * 10L + d);
            double[] a = attention(random, n, m);
            double[] q = gaussian(random, n * d);
            double[] k = gaussian(random, m * d);
            double[] v = gaussian(random, m * dv);
            for (boolean single : new boolean[] {true, false}) {
                double gap = LinearGap.measure(a, q, n, k, v, m, d, dv, 0.3, single).gap();
                assertThat(gap).as("%dx%d d=%d dv=%d single=%s", n, m, d, dv, single)
                        .isEqualTo(plainGap(a, q, n, k, v, m, d, dv, 0.3, single));
                assertThat(LinearGap.gap(a, q, n, k, v, m, d, dv, 0.3, single)).isEqualTo(gap);
            }
        }
    }

    /**
     * The attention output it hands on is {@code A V} in float64, to float32 rounding when single; also from
     * the native product (the last shape), whose gap agrees with the plain loops' to rounding.
     */
    @Test
    void attended_isTheAttentionOutput() {
        int[][] shapes = {{32, 32, 16, 16}, {7, 5, 3, 4}, {1, 9, 2, 1}, {64, 31, 9, 17}, {128, 128, 8, 128}};
        for (int[] s : shapes) {
            int n = s[0], m = s[1], d = s[2], dv = s[3];
            SplittableRandom random = new SplittableRandom(n * 1000L + m * 10L + dv);
            double[] a = attention(random, n, m);
            double[] q = gaussian(random, n * d);
            double[] k = gaussian(random, m * d);
            double[] v = gaussian(random, m * dv);
            for (int j = 0; j < m * dv; j += dv) {
                v[j] += 10;                              // a mean well away from 0, that the output adds back
            }
            double[] plain = new double[n * dv];
            for (int i = 0; i < n; i++) {
                for (int r = 0; r < dv; r++) {
                    for (int j = 0; j < m; j++) {
                        plain[i * dv + r] += a[i * m + j] * v[j * dv + r];
                    }
                }
            }
            assertThat((long) n * m * dv >= EnergyField.NATIVE_MIN_WORK).isEqualTo(n == 128);
            for (boolean single : new boolean[] {true, false}) {
                LinearGap.Result result = LinearGap.measure(a, q, n, k, v, m, d, dv, 0.3, single);
                assertThat(result.gap()).isCloseTo(plainGap(a, q, n, k, v, m, d, dv, 0.3, single),
                        within(single ? 1e-5 : 1e-12));
                double[] attended = result.attended();
                assertThat(attended).hasSize(n * dv);
                for (int i = 0; i < n * dv; i++) {
                    assertThat(attended[i]).isCloseTo(plain[i], within(single ? 2e-6 : 1e-13));
                }
            }
        }
    }

    /** METRICS.md item 11 in plain loops, each sum in the order the gap documents. */
    private static double plainGap(double[] a, double[] q, int n, double[] k, double[] v, int m, int d, int dv,
                                   double tau, boolean single) {
        double[] vbar = new double[dv];
        double[] kbar = new double[d];
        for (int j = 0; j < m; j++) {
            for (int r = 0; r < dv; r++) {
                vbar[r] += v[j * dv + r];
            }
            for (int c = 0; c < d; c++) {
                kbar[c] += k[j * d + c];
            }
        }
        for (int r = 0; r < dv; r++) {
            vbar[r] /= m;
        }
        for (int c = 0; c < d; c++) {
            kbar[c] /= m;
        }
        double[] vc = new double[m * dv];
        for (int j = 0; j < m; j++) {
            for (int r = 0; r < dv; r++) {
                vc[j * dv + r] = v[j * dv + r] - vbar[r];
            }
        }
        double[][] mct = new double[d][dv];
        for (int j = 0; j < m; j++) {
            for (int c = 0; c < d; c++) {
                for (int r = 0; r < dv; r++) {
                    mct[c][r] += (k[j * d + c] - kbar[c]) * vc[j * dv + r];
                }
            }
        }
        double[] oc = LinearGap.rowByRow(a, vc, n, m, dv, single);
        double num = 0, den = 0;
        for (int i = 0; i < n; i++) {
            for (int r = 0; r < dv; r++) {
                double lin = 0;
                for (int c = 0; c < d; c++) {
                    lin += q[i * d + c] * mct[c][r];
                }
                double o = oc[i * dv + r];
                num += (o - tau * lin / m) * (o - tau * lin / m);
                den += o * o;
            }
        }
        return den == 0 ? Double.NaN : num / den;
    }

    /** Rows of positive weights summing to 1, as attention's do. */
    private static double[] attention(SplittableRandom random, int n, int m) {
        double[] a = new double[n * m];
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int j = i * m; j < (i + 1) * m; j++) {
                a[j] = random.nextDouble();
                sum += a[j];
            }
            for (int j = i * m; j < (i + 1) * m; j++) {
                a[j] /= sum;
            }
        }
        return a;
    }

    private static double[] gaussian(SplittableRandom random, int size) {
        double[] x = new double[size];
        for (int i = 0; i < size; i++) {
            x[i] = random.nextGaussian();
        }
        return x;
    }
}
