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
}
