package dev.headwatch.core.math;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Key coherence by the pivoted QR against the SVD of the definition, on keys of a lower rank plus noise of a
 * chosen size: where the QR route answers it must agree to {@link KeyIncoherence#MAX_ERROR}, and it must answer
 * for keys rounded to float32 from a lower-rank matrix (the second layer of a small model), where the first
 * r pivoted keys' leverages alone are off by about 1e-6.
 */
class KeyCoherenceRoutesTest {

    /** Rows of a rank-{@code rank} m x d matrix (stochastic mixtures of {@code rank + 1} token rows) plus noise. */
    private static double[] keys(int m, int d, int rank, double noise, boolean float32, Random random) {
        double[] tokens = new double[(rank + 1) * d];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = random.nextGaussian();
        }
        double[] k = new double[m * d];
        for (int i = 0; i < m; i++) {
            double[] a = new double[rank + 1];
            double sum = 0;
            for (int t = 0; t <= rank; t++) {
                a[t] = Math.exp(random.nextGaussian());
                sum += a[t];
            }
            for (int c = 0; c < d; c++) {
                double v = noise * random.nextGaussian();
                for (int t = 0; t <= rank; t++) {
                    v += a[t] / sum * tokens[t * d + c];
                }
                k[i * d + c] = float32 ? (float) v : v;
            }
        }
        return k;
    }

    @Test
    void whereThePivotedQrAnswers_itAgreesWithTheSvd() {
        Random random = new Random(17);
        int answered = 0;
        int cases = 0;
        for (double noise = 1e-14; noise < 1e-1; noise *= 3) {
            for (int seed = 0; seed < 4; seed++) {
                for (double eps : new double[] {Spectrum.unitRoundoff(true), Spectrum.unitRoundoff(false)}) {
                    double[] k = keys(32, 16, 4 + seed * 3, noise, false, random);
                    double[] both = KeyIncoherence.byEachRoute(CentredKeys.of(k, 0, 32, 16), eps);
                    cases++;
                    if (!Double.isNaN(both[0])) {
                        answered++;
                        // both routes also round: about eps64 * sigma_1 / sigma_r each, where the SVD keeps
                        // noise directions above the tolerance
                        double error = KeyIncoherence.MAX_ERROR + 1e-14 * conditionOfTheRank(k, 32, 16, eps);
                        assertThat(both[0]).as("noise %g, eps %g", noise, eps)
                                .isCloseTo(both[1], within(error * both[1]));
                    }
                }
            }
        }
        // the sweep reaches both sides: clear-cut ranks answered, noise near the tolerance left to the SVD
        assertThat(answered).isBetween(cases / 4, cases - 4);
    }

    /** {@code sigma_1 / sigma_r} of the centred keys, r their numerical rank. */
    private static double conditionOfTheRank(double[] k, int m, int d, double eps) {
        double[] mean = Dense.columnMeans(k, 0, m, d);
        double[] centred = new double[m * d];            // column-major
        for (int i = 0; i < m; i++) {
            for (int c = 0; c < d; c++) {
                centred[c * m + i] = k[i * d + c] - mean[c];
            }
        }
        double[] sigma = GolubKahan.singularValues(centred, m, d);
        double smallest = sigma[0];
        for (double s : sigma) {
            if (s > sigma[0] * Math.max(m, d) * eps) {
                smallest = s;
            }
        }
        return sigma[0] / smallest;
    }

    @Test
    void float32KeysOfALowerRank_takeThePivotedQr() {
        // rounded to float32 alone, and with noise whose singular values lie just under the tolerance (about
        // 1e-5 here), where the pivoted QR's trailing rows alone cannot prove the rank
        Random random = new Random(19);
        for (double noise : new double[] {0, 5e-7, 1e-6}) {
            for (int seed = 0; seed < 20; seed++) {
                double[] k = keys(32, 16, 10, noise, true, random);
                double[] both = KeyIncoherence.byEachRoute(CentredKeys.of(k, 0, 32, 16), Spectrum.unitRoundoff(false));
                assertThat(both[0]).as("noise %g seed %d", noise, seed)
                        .isCloseTo(both[1], within(KeyIncoherence.MAX_ERROR * both[1]));
            }
        }
    }

    @Test
    void float32KeysWithoutTheFirst_fromTheDerivedFactor_agreeWithTheSvdOfAFreshOne() {
        // the derived factor's Gram matrix is that of the keys without key 0 centred afresh, and the
        // coherence taken from it agrees with the definition computed on a fresh factorisation
        Random random = new Random(23);
        double eps = Spectrum.unitRoundoff(false);
        int derived = 0;
        int cases = 0;
        for (int[] md : new int[][] {{32, 16}, {18, 16}, {64, 16}, {40, 8}}) {
            int m = md[0];
            int d = md[1];
            for (double noise : new double[] {0, 1e-6, 1e-3}) {
                for (int seed = 0; seed < 6; seed++) {
                    double[] k = keys(m, d, 2 + seed * 3 % d, noise, true, random);
                    if (seed == 5) {
                        for (int c = 0; c < d; c++) {
                            k[c] *= 20;           // a key 0 far out: a large leverage, still derived or refused
                        }
                    }
                    cases++;
                    CentredKeys rest = CentredKeys.of(k, 0, m, d).withoutFirst(KeyIncoherence.MIN_SHRINK);
                    if (rest == null) {
                        continue;
                    }
                    derived++;
                    CentredKeys fresh = CentredKeys.of(k, 1, m - 1, d);
                    double[] gram = Dense.multiply(transpose(fresh.kc, m - 1, d), d, m - 1, fresh.kc, d);
                    double scale = Math.abs(gram[0]);
                    for (double g : gram) {
                        scale = Math.max(scale, Math.abs(g));
                    }
                    for (int a = 0; a < d; a++) {
                        for (int b = 0; b < d; b++) {
                            double rr = 0;
                            for (int i = 0; i < rest.p; i++) {
                                rr += rest.r[a * rest.p + i] * rest.r[b * rest.p + i];
                            }
                            assertThat(rr).as("%dx%d Gram (%d, %d)", m, d, a, b)
                                    .isCloseTo(gram[a * d + b], within(1e-13 * scale));
                        }
                    }
                    double svd = KeyIncoherence.byEachRoute(fresh, eps)[1];
                    double error = KeyIncoherence.MAX_ERROR
                            + 1e-14 * conditionOfTheRank(java.util.Arrays.copyOfRange(k, d, m * d), m - 1, d, eps);
                    assertThat(KeyIncoherence.coherence(rest, eps)).as("%dx%d noise %g seed %d", m, d, noise, seed)
                            .isCloseTo(svd, within(error * svd));
                }
            }
        }
        assertThat(derived).isBetween(cases / 2, cases - 1);
    }

    @Test
    void theDerivedFactor_isRefusedForAKeyAloneInItsDirection_andForTooFewKeys() {
        Random random = new Random(29);
        double[] k = keys(32, 16, 5, 0, false, random);
        k[15] += 100;                                     // key 0 alone along a direction: leverage (m-1)/m
        assertThat(CentredKeys.of(k, 0, 32, 16).withoutFirst(KeyIncoherence.MIN_SHRINK)).isNull();
        // m - 1 keys of d = m - 2 would need a shorter factor
        assertThat(CentredKeys.of(keys(17, 16, 5, 0, false, random), 0, 17, 16).withoutFirst(0)).isNull();
        // float64 inputs: always afresh
        double[] k64 = keys(32, 16, 5, 1e-9, false, random);
        assertThat(KeyIncoherence.restOf(CentredKeys.of(k64, 0, 32, 16), Spectrum.unitRoundoff(true)).r)
                .containsExactly(CentredKeys.of(k64, 1, 31, 16).r);
    }

    private static double[] transpose(double[] a, int rows, int cols) {
        double[] t = new double[rows * cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                t[j * rows + i] = a[i * cols + j];
            }
        }
        return t;
    }
}
