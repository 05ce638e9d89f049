package dev.headwatch.core.math;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The QR and Jacobi kernels against plain one-column-at-a-time references: the blocked and vectorisable loops
 * must give the very same doubles (they keep the order of every sum), and Q applied through its reflectors must
 * be orthonormal and rebuild A.
 */
class DenseTest {

    private static final int[][] SHAPES = {{1, 1}, {5, 1}, {1, 5}, {7, 3}, {8, 8}, {64, 16}, {128, 32}, {3, 9}, {33, 13}};

    @Test
    void transpose_movesEveryEntry_andLeavesTheRestOfOut() {
        Random rnd = new Random(2);
        for (int[] s : SHAPES) {
            int rows = s[0];
            int cols = s[1];
            int from = 3;
            double[] a = matrix(rnd, rows * cols + from, 1, false); // the block starts at a[from], not at a row's start
            double[] out = new double[rows * cols + 2];
            java.util.Arrays.fill(out, -7);

            Dense.transpose(a, from, rows, cols, out);

            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    assertThat(out[j * rows + i]).as("%dx%d (%d, %d)", rows, cols, i, j).isEqualTo(a[from + i * cols + j]);
                }
            }
            assertThat(out[rows * cols]).isEqualTo(-7);
            assertThat(out[rows * cols + 1]).isEqualTo(-7);
        }
    }

    @Test
    void qrR_equalsOneColumnAtATimeHouseholder_exactly() {
        Random rnd = new Random(3);
        for (int[] s : SHAPES) {
            for (boolean deficient : new boolean[] {false, true}) {
                double[] a = matrix(rnd, s[0], s[1], deficient);

                double[] r = Dense.qrR(a.clone(), s[0], s[1]);

                assertThat(r).as("%dx%d", s[0], s[1]).containsExactly(referenceR(a.clone(), s[0], s[1]));
            }
        }
    }

    @Test
    void jacobi_equalsSingleArrayRotations_exactly() {
        Random rnd = new Random(5);
        for (int[] s : SHAPES) {
            int rows = s[0];
            int cols = s[1];
            double[] a = matrix(rnd, rows, cols, false);
            double[] a2 = a.clone();
            double[] v = Dense.identity(cols);
            double[] v2 = Dense.identity(cols);

            double[] sigma = Dense.jacobi(a, rows, cols, v);

            assertThat(sigma).containsExactly(referenceJacobi(a2, rows, cols, v2));
            assertThat(a).containsExactly(a2);
            assertThat(v).containsExactly(v2);
        }
    }

    @Test
    void qrTimesQ_isOrthonormal_andRebuildsA() {
        Random rnd = new Random(7);
        for (int[] s : SHAPES) {
            int rows = s[0];
            int cols = s[1];
            int p = Math.min(rows, cols);
            for (boolean deficient : new boolean[] {false, true}) {
                double[] a = matrix(rnd, rows, cols, deficient);
                Dense.Qr qr = new Dense.Qr(a, rows, cols);
                double[] identity = Dense.identity(p);
                double[] all = qr.timesQ(identity, p);
                double[][] q = new double[p][];
                for (int j = 0; j < p; j++) {
                    q[j] = java.util.Arrays.copyOfRange(all, j * rows, (j + 1) * rows);
                    // one column on its own gets the very same numbers as in a batch
                    assertThat(qr.timesQ(java.util.Arrays.copyOfRange(identity, j * p, (j + 1) * p), 1))
                            .containsExactly(q[j]);
                }
                for (int i = 0; i < p; i++) {
                    for (int j = 0; j < p; j++) {
                        assertThat(Dense.dot(q[i], 0, q[j], 0, rows)).isCloseTo(i == j ? 1 : 0, within(1e-12));
                    }
                }
                for (int j = 0; j < cols; j++) {   // column j of A is Q times column j of R
                    double[] rebuilt = qr.timesQ(java.util.Arrays.copyOfRange(qr.r, j * p, (j + 1) * p), 1);
                    for (int i = 0; i < rows; i++) {
                        assertThat(rebuilt[i]).isCloseTo(a[j * rows + i], within(1e-12));
                    }
                }
            }
        }
    }

    /** Column-major rows x cols; rank 1 when deficient (so some reflections are skipped or tiny). */
    @Test
    void products_equalTheSumsInOrder_exactly() {
        Random rnd = new Random(7);
        for (int rows = 1; rows <= 9; rows++) {               // every remainder of the 4 x 4 blocks
            for (int cols = 1; cols <= 9; cols++) {
                for (int inner : new int[] {1, 3, 16}) {
                    double[] a = matrix(rnd, rows, inner, false);
                    double[] b = matrix(rnd, inner, cols, false);       // row-major inner x cols
                    double[] bt = matrix(rnd, cols, inner, false);      // row-major cols x inner
                    double[] ab = Dense.multiply(a, rows, inner, b, cols);
                    double[] abt = Dense.multiplyByTranspose(a, rows, inner, bt, cols);
                    double[] into = new double[rows * cols + 5];   // written from entry 3 on, the rest untouched
                    java.util.Arrays.fill(into, Double.NaN);
                    assertThat(Dense.multiplyByTranspose(a, rows, inner, bt, 0, cols, into, 3)).isSameAs(into);
                    assertThat(java.util.Arrays.copyOfRange(into, 3, 3 + rows * cols)).containsExactly(abt);
                    assertThat(into[0]).isNaN();
                    assertThat(into[into.length - 1]).isNaN();
                    double[] btShifted = new double[2 * inner + bt.length]; // B read from its third row on
                    System.arraycopy(bt, 0, btShifted, 2 * inner, bt.length);
                    java.util.Arrays.fill(into, Double.NaN);
                    Dense.multiplyByTranspose(a, rows, inner, btShifted, 2 * inner, cols, into, 3);
                    assertThat(java.util.Arrays.copyOfRange(into, 3, 3 + rows * cols)).containsExactly(abt);
                    java.util.Arrays.fill(into, Double.NaN);
                    double[] shifted = new double[2 * inner + a.length];   // A read from its third row on
                    System.arraycopy(a, 0, shifted, 2 * inner, a.length);
                    assertThat(Dense.multiply(shifted, 2 * inner, rows, inner, b, cols, into, 3)).isSameAs(into);
                    assertThat(java.util.Arrays.copyOfRange(into, 3, 3 + rows * cols)).containsExactly(ab);
                    assertThat(into[0]).isNaN();
                    assertThat(into[into.length - 1]).isNaN();
                    for (int i = 0; i < rows; i++) {
                        for (int j = 0; j < cols; j++) {
                            double s = 0;
                            double t = 0;
                            for (int k = 0; k < inner; k++) {
                                s += a[i * inner + k] * b[k * cols + j];
                                t += a[i * inner + k] * bt[j * inner + k];
                            }
                            assertThat(ab[i * cols + j]).as("A B %dx%dx%d (%d, %d)", rows, inner, cols, i, j).isEqualTo(s);
                            assertThat(abt[i * cols + j]).as("A B^T %dx%dx%d (%d, %d)", rows, inner, cols, i, j).isEqualTo(t);
                        }
                    }
                }
            }
        }
    }

    @Test
    void pivotedQr_rebuildsThePermutedColumns_withNonIncreasingDiagonal() {
        Random rnd = new Random(9);
        for (int[] s : SHAPES) {
            for (boolean deficient : new boolean[] {false, true}) {
                int rows = s[0];
                int cols = s[1];
                double[] a = matrix(rnd, rows, cols, deficient);
                int[] perm = new int[cols];
                double[] t = Dense.pivotedQrR(a.clone(), rows, cols, perm);
                int p = Math.min(rows, cols);
                assertThat(java.util.Arrays.stream(perm).sorted().toArray()).as("a permutation")
                        .containsExactly(java.util.stream.IntStream.range(0, cols).toArray());
                // T^T T = (A P)^T (A P): column norms and inner products of the permuted columns
                for (int x = 0; x < cols; x++) {
                    for (int y = 0; y < cols; y++) {
                        double tt = 0;
                        double aa = 0;
                        for (int i = 0; i < p; i++) {
                            tt += t[x * p + i] * t[y * p + i];
                        }
                        for (int i = 0; i < rows; i++) {
                            aa += a[perm[x] * rows + i] * a[perm[y] * rows + i];
                        }
                        assertThat(tt).as("%dx%d (%d, %d)", rows, cols, x, y).isCloseTo(aa, within(1e-12 * (1 + Math.abs(aa))));
                    }
                }
                for (int i = 1; i < p; i++) {
                    assertThat(Math.abs(t[i * p + i])).as("|T_ii| non-increasing").isLessThanOrEqualTo(Math.abs(t[(i - 1) * p + i - 1]) * (1 + 1e-12));
                }
            }
        }
    }

    private static double[] matrix(Random rnd, int rows, int cols, boolean deficient) {
        double[] a = new double[rows * cols];
        double[] u = new double[rows];
        for (int i = 0; i < rows; i++) {
            u[i] = rnd.nextGaussian();
        }
        for (int j = 0; j < cols; j++) {
            double c = rnd.nextGaussian();
            for (int i = 0; i < rows; i++) {
                a[j * rows + i] = deficient ? (j % 2 == 0 ? c * u[i] : 0) : rnd.nextGaussian();
            }
        }
        return a;
    }

    /** Householder QR applying each reflection to one column at a time, one running sum per dot product. */
    private static double[] referenceR(double[] a, int rows, int cols) {
        int p = Math.min(rows, cols);
        for (int k = 0; k < p; k++) {
            double norm2 = 0;
            for (int i = k; i < rows; i++) {
                norm2 += a[k * rows + i] * a[k * rows + i];
            }
            double norm = Math.sqrt(norm2);
            if (norm == 0) {
                continue;
            }
            double[] v = new double[rows];
            for (int i = k; i < rows; i++) {
                v[i] = a[k * rows + i];
            }
            v[k] -= a[k * rows + k] > 0 ? -norm : norm;
            double vnorm2 = 0;
            for (int i = k; i < rows; i++) {
                vnorm2 += v[i] * v[i];
            }
            if (vnorm2 == 0) {
                continue;
            }
            double scale = Math.sqrt(2.0 / vnorm2);
            for (int i = k; i < rows; i++) {
                v[i] *= scale;
            }
            for (int j = k; j < cols; j++) {
                double dot = 0;
                for (int i = k; i < rows; i++) {
                    dot += v[i] * a[j * rows + i];
                }
                for (int i = k; i < rows; i++) {
                    a[j * rows + i] -= dot * v[i];
                }
            }
        }
        double[] r = new double[p * cols];
        for (int j = 0; j < cols; j++) {
            for (int i = 0; i <= Math.min(j, p - 1); i++) {
                r[j * p + i] = a[j * rows + i];
            }
        }
        return r;
    }

    /** One-sided Jacobi rotating columns in place in the single column-major array. */
    private static double[] referenceJacobi(double[] a, int rows, int cols, double[] v) {
        double[] norm2 = new double[cols];
        for (int sweep = 0; sweep < 80; sweep++) {
            double negligible = 0;
            for (int j = 0; j < cols; j++) {
                double s = 0;
                for (int i = j * rows; i < (j + 1) * rows; i++) {
                    s += a[i] * a[i];
                }
                norm2[j] = s;
                negligible += s;
            }
            negligible *= 0x1p-104;
            boolean rotated = false;
            for (int p = 0; p < cols - 1; p++) {
                for (int q = p + 1; q < cols; q++) {
                    double alpha = norm2[p];
                    double beta = norm2[q];
                    double gamma = Dense.dot(a, p * rows, a, q * rows, rows);
                    if (gamma == 0 || Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta)
                            || Math.min(alpha, beta) <= negligible) {
                        continue;
                    }
                    rotated = true;
                    double zeta = (beta - alpha) / (2 * gamma);
                    double t = (zeta >= 0 ? 1.0 : -1.0) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
                    double c = 1 / Math.sqrt(1 + t * t);
                    double s = c * t;
                    for (int i = 0; i < rows; i++) {
                        double x = a[p * rows + i];
                        double y = a[q * rows + i];
                        a[p * rows + i] = c * x - s * y;
                        a[q * rows + i] = s * x + c * y;
                    }
                    norm2[p] = Math.max(0, alpha - t * gamma);
                    norm2[q] = beta + t * gamma;
                    for (int i = 0; i < cols; i++) {
                        double x = v[p * cols + i];
                        double y = v[q * cols + i];
                        v[p * cols + i] = c * x - s * y;
                        v[q * cols + i] = s * x + c * y;
                    }
                }
            }
            if (!rotated) {
                break;
            }
        }
        double[] sigma = new double[cols];
        for (int j = 0; j < cols; j++) {
            double s = 0;
            for (int i = 0; i < rows; i++) {
                s += a[j * rows + i] * a[j * rows + i];
            }
            sigma[j] = Math.sqrt(s);
        }
        return sigma;
    }

    @Test
    void jacobi_nonFiniteInput_isAllNaNWithoutSweeping() {
        double[] a = {1, 2, Double.NaN, 4, 5, 6};

        assertThat(Dense.jacobi(a, 3, 2, null)).hasSize(2).containsOnly(Double.NaN);
    }
}
