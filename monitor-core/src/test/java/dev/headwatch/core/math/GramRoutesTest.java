package dev.headwatch.core.math;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The Gram-matrix routes (qkSpectralNorm by Cholesky and a symmetric eigenproblem; the float32 FULL
 * spectrum from {@code R (tau^2 Q^T Q) R^T}) against the QR and SVD routes they stand in for.
 */
class GramRoutesTest {

    private static double[] gaussian(SplittableRandom random, int size, boolean single) {
        double[] x = new double[size];
        for (int i = 0; i < size; i++) {
            x[i] = single ? (float) random.nextGaussian() : random.nextGaussian();
        }
        return x;
    }

    @Test
    void spectralNorm_equalsTheQrRoute() {
        SplittableRandom random = new SplittableRandom(3);
        // hs, nInQ, nInK: queries and keys may come from inputs of other widths
        int[][] shapes = {{16, 16, 16}, {16, 64, 64}, {8, 32, 32}, {1, 5, 5}, {3, 3, 3}, {12, 5, 5}, {32, 512, 512},
                {3, 6, 4}, {4, 9, 20}, {8, 5, 12}, {7, 20, 20}, {13, 30, 17}};
        for (int[] shape : shapes) {
            int hs = shape[0], nIn = shape[1], nInK = shape[2];
            for (int trial = 0; trial < 5; trial++) {
                double[] wq = gaussian(random, hs * nIn, trial % 2 == 0);
                double[] wk = gaussian(random, hs * nInK, false);
                if (trial == 3 && hs > 1) {
                    System.arraycopy(wq, nIn, wq, 0, nIn);   // two equal rows: Gq singular, the QR route takes over
                }
                double tau = 1 / Math.sqrt(hs);
                double expected = WeightSpectra.spectralNormByQr(wq, wk, hs, nIn, nInK, tau);
                assertThat(WeightSpectra.spectralNorm(wq, wk, hs, nIn, nInK, tau))
                        .as("hs %d nIn %d trial %d", hs, nIn, trial).isCloseTo(expected, within(1e-12 * expected));
            }
        }
    }

    @Test
    void spectralNorm_warmStartedAlongAWalk_equalsTheFullSolve() {
        SplittableRandom random = new SplittableRandom(6);
        int heads = 3, hs = 16, nIn = 64;
        double[] wq = gaussian(random, heads * hs * nIn, true);
        double[] wk = gaussian(random, heads * hs * nIn, true);
        double[][] warm = new double[heads][hs];
        double tau = 0.25;
        for (int step = 0; step < 20; step++) {
            for (int i = 0; i < wq.length; i++) {
                wq[i] = (float) (wq[i] + 0.01 * random.nextGaussian());
                wk[i] = (float) (wk[i] + 0.01 * random.nextGaussian());
            }
            for (int h = 0; h < heads; h++) {
                int from = h * hs * nIn;
                double expected = WeightSpectra.spectralNorm(Arrays.copyOfRange(wq, from, from + hs * nIn),
                        Arrays.copyOfRange(wk, from, from + hs * nIn), hs, nIn, nIn, tau);
                assertThat(WeightSpectra.spectralNorm(wq, from, wk, from, hs, nIn, nIn, tau, warm[h]))
                        .as("head %d at step %d", h, step).isCloseTo(expected, within(1e-12 * expected));
            }
        }
    }

    @Test
    void spectralNorm_zeroAndDeadHeads() {
        SplittableRandom random = new SplittableRandom(4);
        double[] w = gaussian(random, 4 * 9, false);
        assertThat(WeightSpectra.spectralNorm(w, new double[36], 4, 9, 9, 0.5)).isZero();
        assertThat(WeightSpectra.spectralNorm(new double[36], w, 4, 9, 9, 0.5)).isZero();
    }

    @Test
    void floatSpectrum_equalsTheSvdRouteToFloatPrecision() {
        SplittableRandom random = new SplittableRandom(5);
        // rows (queries), m (keys), d: cross-attention has rows != m
        int[][] shapes = {{32, 32, 16}, {8, 8, 16}, {17, 17, 17}, {2, 2, 3}, {64, 64, 8}, {5, 5, 1}, {1, 1, 4},
                {2, 4, 3}, {3, 20, 8}, {20, 3, 8}};
        for (int[] shape : shapes) {
            int rows = shape[0], m = shape[1], d = shape[2];
            double[] q = gaussian(random, rows * d, true);
            double[] k = gaussian(random, m * d, true);
            double tau = 1 / Math.sqrt(d);
            double[] svd = Spectrum.lowRank(q, rows, k, m, d, tau, false);
            double[] gram = Spectrum.lowRank(q, rows, k, m, d, tau, true);
            assertThat(gram).hasSize(svd.length);
            double tol = Math.max(m, d) * 0x1p-23 * (svd.length == 0 ? 0 : svd[0]);
            for (int i = 0; i < svd.length; i++) {
                assertThat(gram[i]).as("sigma_%d of %d x %d", i, m, d).isCloseTo(svd[i], within(tol));
                if (i > 0) {
                    assertThat(gram[i]).isLessThanOrEqualTo(gram[i - 1]);
                }
            }
            // the same numerical rank: the Gram route's rounding-level values fall below the tolerance
            assertThat(Spectrum.numericalRank(gram, Math.max(rows, m), d, 0x1p-23))
                    .isEqualTo(Spectrum.numericalRank(svd, Math.max(rows, m), d, 0x1p-23));
        }
    }

    @Test
    void congruence_equalsTheDenseProduct() {
        SplittableRandom random = new SplittableRandom(6);
        int p = 5, n = 7;
        double[] b = gaussian(random, p * n, false);
        for (int i = 0; i < p; i++) {
            for (int j = 0; j < i; j++) {
                b[i * n + j] = 0;                    // upper trapezoidal
            }
        }
        double[] x = gaussian(random, 9 * n, false);
        double[] g = Dense.columnGram(x, 0, 9, n);
        double[] full = new double[n * n];           // X^T X, both triangles
        for (int a = 0; a < n; a++) {
            for (int c = 0; c < n; c++) {
                for (int r = 0; r < 9; r++) {
                    full[a * n + c] += x[r * n + a] * x[r * n + c];
                }
            }
        }
        double[] lower = Dense.congruence(b, p, g, n, 1);
        for (int i = 0; i < p; i++) {
            for (int j = 0; j <= i; j++) {
                double expected = 0;
                for (int a = 0; a < n; a++) {
                    for (int c = 0; c < n; c++) {
                        expected += b[i * n + a] * full[a * n + c] * b[j * n + c];
                    }
                }
                assertThat(lower[i * p + j]).isCloseTo(expected, within(1e-12 * Math.max(1, Math.abs(expected))));
            }
        }
    }

    @Test
    void columnGram_equalsTheSumsInOrder_andCongruenceReadsEitherLayout_exactly() {
        SplittableRandom random = new SplittableRandom(8);
        for (int n = 1; n <= 13; n++) {                  // every remainder of the 4 x 4 blocks
            double[] x = gaussian(random, 11 * n, false);
            double[] g = Dense.columnGram(x, 2, 9, n);
            for (int a = 0; a < n; a++) {
                for (int c = 0; c < n; c++) {
                    double sum = 0;
                    for (int r = 2; r < 11; r++) {
                        sum += x[r * n + a] * x[r * n + c];
                    }
                    assertThat(g[a * n + c]).as("n %d (%d, %d)", n, a, c).isEqualTo(c <= a ? sum : 0);
                }
            }
            int p = Math.max(1, n - 2);
            double[] b = gaussian(random, p * n, false);
            double[] bColumns = new double[p * n];
            for (int i = 0; i < p; i++) {
                for (int a = 0; a < n; a++) {
                    b[i * n + a] = a < i ? 0 : b[i * n + a];
                    bColumns[a * p + i] = b[i * n + a];
                }
            }
            double[] expected = Dense.congruence(b, p, g, n, 1);
            assertThat(Dense.congruence(bColumns, p, true, g, n, 1)).containsExactly(expected);
            // written over G itself: the same numbers, the upper triangle cleared
            double[] over = g.clone();
            for (int a = 0; a < n; a++) {
                for (int c = a + 1; c < n; c++) {
                    over[a * n + c] = Double.NaN;   // G's upper triangle is not read
                }
            }
            assertThat(Dense.congruence(bColumns, p, true, over, n, 1, over)).isSameAs(over);
            assertThat(java.util.Arrays.copyOf(over, p * p)).containsExactly(expected);
        }
    }

    @Test
    void cholesky_rebuildsAndRejectsSingular() {
        SplittableRandom random = new SplittableRandom(7);
        int n = 6;
        double[] x = gaussian(random, 10 * n, false);
        double[] g = Dense.columnGram(x, 0, 10, n);
        double[] l = g.clone();
        assertThat(Dense.cholesky(l, n)).isTrue();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double llt = 0;
                for (int k = 0; k <= j; k++) {
                    llt += l[i * n + k] * l[j * n + k];
                }
                assertThat(llt).isCloseTo(g[i * n + j], within(1e-12 * g[i * n + i]));
            }
        }
        assertThat(Dense.cholesky(Dense.columnGram(x, 0, 3, n), n)).isFalse();   // rank 3 < 6
        assertThat(Dense.cholesky(new double[] {Double.NaN}, 1)).isFalse();
    }
}
