package dev.headwatch.core.math;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The structured Gram path of CAUSAL spectra against a dense SVD of E formed entry by entry. */
class SpectrumCausalTest {

    /** E_ij = tau q_i . k_j - (mean over j' <= i of the same), zero above the diagonal; row-major. */
    private static double[] energy(double[] q, double[] k, int n, int d, double tau) {
        double[] e = new double[n * n];
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int j = 0; j <= i; j++) {
                double s = 0;
                for (int c = 0; c < d; c++) {
                    s += q[i * d + c] * k[j * d + c];
                }
                e[i * n + j] = tau * s;
                sum += tau * s;
            }
            for (int j = 0; j <= i; j++) {
                e[i * n + j] -= sum / (i + 1);
            }
        }
        return e;
    }

    @ParameterizedTest
    @CsvSource({"1, 4", "2, 3", "7, 16", "40, 8", "96, 16", "200, 64"})
    void matchesTheDenseSvdOfE(int n, int d) {
        SplittableRandom random = new SplittableRandom(31L * n + d);
        double[] q = new double[n * d];
        double[] k = new double[n * d];
        for (int i = 0; i < n * d; i++) {
            q[i] = (float) random.nextGaussian(); // float32 data, as the path is used for
            k[i] = (float) (random.nextGaussian() + 0.5);
        }
        double tau = 1 / Math.sqrt(d);
        double[] expected = Spectrum.dense(energy(q, k, n, d, tau), n);
        double[] actual = Spectrum.causal(q, k, n, d, tau);
        assertThat(actual).hasSize(n);
        // eigenvalues of E E^T resolve singular values to about sqrt(n eps64) sigma_1
        double tol = 1e-6 * Math.max(1, expected[0]);
        for (int i = 0; i < n; i++) {
            assertThat(actual[i]).as("sigma_%d", i).isCloseTo(expected[i], within(tol));
        }
        assertThat(Spectrum.numericalRank(actual, n, d, 0x1p-23)).isEqualTo(Spectrum.numericalRank(expected, n, d, 0x1p-23));
        assertThat(Spectrum.effectiveRank(actual)).isCloseTo(Spectrum.effectiveRank(expected), within(1e-5 * n));
    }

    @ParameterizedTest
    @CsvSource({"1", "5", "64"})
    void equalKeysGiveAZeroField(int n) {
        int d = 3;
        double[] q = new double[n * d];
        double[] k = new double[n * d];
        for (int i = 0; i < n * d; i++) {
            q[i] = i % 7 - 3;
            k[i] = (i % d) + 1; // every key (1, 2, 3)
        }
        double[] sigma = Spectrum.causal(q, k, n, d, 0.5);
        assertThat(sigma).hasSize(n).containsOnly(0.0);
        assertThat(Spectrum.numericalRank(sigma, n, d, 0x1p-23)).isZero();
    }
}
