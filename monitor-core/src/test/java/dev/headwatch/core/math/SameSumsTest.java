package dev.headwatch.core.math;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The blocked kernels of the Gram routes give exactly the numbers of the plain loops they replaced (written out
 * here, one entry at a time): the same operations in the same order, so the same bits.
 */
class SameSumsTest {

    private static double[] gaussian(SplittableRandom random, int size) {
        double[] x = new double[size];
        for (int i = 0; i < size; i++) {
            // some exact zeros (skipped terms), some float32 values
            double v = random.nextGaussian();
            x[i] = random.nextInt(7) == 0 ? 0 : random.nextBoolean() ? (float) v : v;
        }
        return x;
    }

    /** {@code B G B^T} one entry at a time: {@code T = B G} by rows, skipping B's zeros, then dot products. */
    private static double[] congruence(double[] b, int p, boolean columnMajor, double[] gLower, int n, int shift) {
        int rowStride = columnMajor ? 1 : n;
        int colStride = columnMajor ? p : 1;
        double[] t = new double[p * n];
        for (int i = 0; i < p; i++) {
            int ti = i * n;
            for (int a = i * shift; a < n; a++) {
                double bia = b[i * rowStride + a * colStride];
                if (bia == 0) {
                    continue;
                }
                for (int c = 0; c <= a; c++) {
                    t[ti + c] += bia * gLower[a * n + c];
                }
                for (int c = a + 1; c < n; c++) {
                    t[ti + c] += bia * gLower[c * n + a];
                }
            }
        }
        double[] out = new double[p * p];
        double[] row = new double[n];
        for (int j = 0; j < p; j++) {
            int from = j * shift;
            for (int a = from; a < n; a++) {
                row[a] = b[j * rowStride + a * colStride];
            }
            for (int i = j; i < p; i++) {
                out[i * p + j] = Dense.dot(t, i * n + from, row, from, n - from);
            }
        }
        return out;
    }

    @Test
    void congruence_sameBitsAsEntryByEntry() {
        SplittableRandom random = new SplittableRandom(11);
        for (int n = 1; n <= 21; n++) {
            for (int p = 1; p <= n; p += Math.max(1, n / 5)) {
                for (int shift = 0; shift <= 1; shift++) {
                    double[] g = gaussian(random, n * n);
                    if (n % 3 == 0) {
                        g[random.nextInt(n * n)] = random.nextBoolean() ? Double.NaN : Double.NEGATIVE_INFINITY;
                    }
                    double[] b = gaussian(random, p * n);
                    for (boolean columnMajor : new boolean[] {false, true}) {
                        double[] expected = congruence(b, p, columnMajor, g, n, shift);
                        assertThat(Dense.congruence(b, p, columnMajor, g, n, shift))
                                .as("n %d p %d shift %d", n, p, shift).containsExactly(expected);
                        double[] over = g.clone();
                        Dense.congruence(b, p, columnMajor, over, n, shift, over);
                        assertThat(java.util.Arrays.copyOf(over, p * p)).containsExactly(expected);
                    }
                }
            }
        }
    }

    /** The Householder reduction to tridiagonal form, one entry of {@code A u} at a time. */
    private static void tridiagonal(double[] a, int n, double[] d, double[] e) {
        for (int i = n - 1; i > 0; i--) {
            int l = i - 1;
            double h = 0;
            if (l > 0) {
                double scale = 0;
                for (int k = 0; k <= l; k++) {
                    scale += Math.abs(a[i * n + k]);
                }
                if (scale == 0) {
                    e[i] = a[i * n + l];
                } else {
                    for (int k = 0; k <= l; k++) {
                        a[i * n + k] /= scale;
                        h += a[i * n + k] * a[i * n + k];
                    }
                    double f = a[i * n + l];
                    double g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
                    e[i] = scale * g;
                    h -= f * g;
                    a[i * n + l] = f - g;
                    f = 0;
                    for (int j = 0; j <= l; j++) {
                        g = 0;
                        for (int k = 0; k <= j; k++) {
                            g += a[j * n + k] * a[i * n + k];
                        }
                        for (int k = j + 1; k <= l; k++) {
                            g += a[k * n + j] * a[i * n + k];
                        }
                        e[j] = g / h;
                        f += e[j] * a[i * n + j];
                    }
                    double hh = f / (h + h);
                    for (int j = 0; j <= l; j++) {
                        f = a[i * n + j];
                        g = e[j] - hh * f;
                        e[j] = g;
                        for (int k = 0; k <= j; k++) {
                            a[j * n + k] -= f * e[k] + g * a[i * n + k];
                        }
                    }
                }
            } else {
                e[i] = a[i * n + l];
            }
        }
        for (int i = 0; i < n; i++) {
            d[i] = a[i * n + i];
        }
    }

    @Test
    void tridiagonal_sameBitsAsEntryByEntry() {
        SplittableRandom random = new SplittableRandom(12);
        for (int n = 1; n <= 24; n++) {
            for (int trial = 0; trial < 6; trial++) {
                double[] a = gaussian(random, n * n);
                if (trial == 5) {
                    java.util.Arrays.fill(a, 0, n * n / 2, 0.0);   // zero rows: the scale == 0 branch
                }
                double[] expected = a.clone();
                double[] d0 = new double[n], e0 = new double[n], d1 = new double[n], e1 = new double[n];
                tridiagonal(expected, n, d0, e0);
                SymmetricEigen.tridiagonal(a, n, d1, e1);
                assertThat(d1).as("n %d", n).containsExactly(d0);
                assertThat(java.util.Arrays.copyOfRange(e1, 1, n)).containsExactly(java.util.Arrays.copyOfRange(e0, 1, n));
                assertThat(a).containsExactly(expected);
            }
        }
    }

    @Test
    void cholesky_sameBitsAsEntryByEntry() {
        SplittableRandom random = new SplittableRandom(13);
        for (int n = 1; n <= 24; n++) {
            for (int trial = 0; trial < 4; trial++) {
                double[] x = gaussian(random, (n + 3) * n);
                double[] g = Dense.columnGram(x, 0, n + 3, n);
                double[] expected = g.clone();
                boolean ok = true;
                for (int j = 0; j < n && ok; j++) {         // one entry at a time
                    int rj = j * n;
                    double pivot = expected[rj + j] - Dense.dot(expected, rj, expected, rj, j);
                    ok = pivot > 0 && pivot != Double.POSITIVE_INFINITY;
                    if (ok) {
                        double ljj = Math.sqrt(pivot);
                        expected[rj + j] = ljj;
                        for (int i = j + 1; i < n; i++) {
                            expected[i * n + j] = (expected[i * n + j] - Dense.dot(expected, i * n, expected, rj, j)) / ljj;
                        }
                    }
                }
                assertThat(Dense.cholesky(g, n)).isEqualTo(ok);
                if (ok) {
                    assertThat(g).as("n %d", n).containsExactly(expected);
                }
            }
        }
    }

    @Test
    void columnGramInto_sameLowerTriangle() {
        SplittableRandom random = new SplittableRandom(14);
        for (int cols = 1; cols <= 20; cols++) {
            double[] x = gaussian(random, 40 * cols);
            double[] expected = Dense.columnGram(x, 3, 33, cols);
            double[] g = new double[cols * cols + 5];
            java.util.Arrays.fill(g, Double.NaN);
            Dense.columnGram(x, 3, 33, cols, g);
            for (int a = 0; a < cols; a++) {
                assertThat(java.util.Arrays.copyOfRange(g, a * cols, a * cols + a + 1)).as("cols %d", cols)
                        .containsExactly(java.util.Arrays.copyOfRange(expected, a * cols, a * cols + a + 1));
            }
        }
    }
}
