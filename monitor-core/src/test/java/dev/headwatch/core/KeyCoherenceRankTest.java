package dev.headwatch.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.headwatch.core.math.CentredKeys;
import dev.headwatch.core.math.KeyIncoherence;
import dev.headwatch.core.math.RowMajor;
import dev.headwatch.core.math.Spectrum;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Key coherence where the rank decides the answer, against the brute-force {@link Reference}: keys of a
 * one-hot input (exactly rank-deficient), mixtures of such keys (rank-deficient up to rounding), keys with
 * singular values straddling the tolerance, and keys whose first position spans a direction no other key does.
 */
class KeyCoherenceRankTest {

    enum Keys { ONE_HOT, MIXED_TOKENS, FULL_RANK_ILL_CONDITIONED, NEAR_TOLERANCE, SINK_DIRECTION, WIDE }

    private static double[][] keys(Keys kind, int m, int d, Random random) {
        double[][] k = new double[m][d];
        switch (kind) {
            case ONE_HOT -> {
                // K = X W with X one-hot over 5 tokens: 5 distinct rows, centred rank 4
                double[][] w = gaussian(5, d, random);
                for (int i = 0; i < m; i++) {
                    k[i] = w[random.nextInt(5)].clone();
                }
            }
            case MIXED_TOKENS -> {
                // K = A X W, rows of A stochastic, X one-hot over 5 tokens (a layer reading attention outputs):
                // centred rank 4, and in float32 the rounding noise of the rest straddles the tolerance
                double[][] w = gaussian(5, d, random);
                for (int i = 0; i < m; i++) {
                    double[] a = new double[5];
                    double sum = 0;
                    for (int t = 0; t < 5; t++) {
                        a[t] = Math.exp(random.nextGaussian());
                        sum += a[t];
                    }
                    for (int t = 0; t < 5; t++) {
                        for (int c = 0; c < d; c++) {
                            k[i][c] += a[t] / sum * w[t][c];
                        }
                    }
                }
            }
            case FULL_RANK_ILL_CONDITIONED, NEAR_TOLERANCE -> {
                // Gaussian keys whose columns are scaled from 1 down to 1e-4 (float32 tolerance ~ 2e-6) or to
                // 1e-6, around the tolerance
                double last = kind == Keys.NEAR_TOLERANCE ? -6 : -4;
                double[][] g = gaussian(m, d, random);
                for (int i = 0; i < m; i++) {
                    for (int c = 0; c < d; c++) {
                        k[i][c] = g[i][c] * Math.pow(10, last * c / (d - 1));
                    }
                }
            }
            case SINK_DIRECTION -> {
                // keys in a 6-dimensional subspace, except key 0, which adds a direction of its own
                double[][] basis = gaussian(6, d, random);
                double[][] coef = gaussian(m, 6, random);
                for (int i = 0; i < m; i++) {
                    for (int t = 0; t < 6; t++) {
                        for (int c = 0; c < d; c++) {
                            k[i][c] += coef[i][t] * basis[t][c];
                        }
                    }
                }
                k[0][d - 1] += 10;
            }
            case WIDE -> k = gaussian(m, d, random);
        }
        return k;
    }

    @ParameterizedTest
    @EnumSource(Keys.class)
    void keyCoherence_doesNotDependOnTheKeysScale(Keys kind) {
        Random random = new Random(11);
        int d = 16;
        int m = kind == Keys.WIDE ? 9 : 32;
        double[][] k = keys(kind, m, d, random);
        double[] flat = new double[m * d];
        for (int i = 0; i < m; i++) {
            System.arraycopy(k[i], 0, flat, i * d, d);
        }
        double eps = Spectrum.unitRoundoff(true);
        double reference = KeyIncoherence.coherence(flat, 0, m, d, eps);
        for (double scale : new double[] {1e-30, 1e30}) {    // the range of float32 keys, and more
            double[] scaled = flat.clone();
            for (int i = 0; i < scaled.length; i++) {
                scaled[i] *= scale;
            }
            assertThat(KeyIncoherence.coherence(scaled, 0, m, d, eps)).as("%s at scale %g", kind, scale)
                    .isCloseTo(reference, within(1e-9 * reference));
        }
    }

    private static double[][] gaussian(int rows, int cols, Random random) {
        double[][] g = new double[rows][cols];
        for (double[] row : g) {
            for (int c = 0; c < cols; c++) {
                row[c] = random.nextGaussian();
            }
        }
        return g;
    }

    @ParameterizedTest
    @EnumSource(Keys.class)
    void keyCoherence_matchesTheSvdDefinition(Keys kind) {
        for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            for (int seed = 0; seed < 5; seed++) {
                Random random = new Random(seed);
                int d = 16;
                int m = kind == Keys.WIDE ? 9 : 32;
                INDArray k = Nd4j.createFromArray(keys(kind, m, d, random)).castTo(type);
                INDArray q = Nd4j.createFromArray(gaussian(m, d, random)).castTo(type);
                HeadInput in = HeadInput.of(q, k, null, Visibility.FULL, Double.NaN);
                Reference ref = new Reference(in);
                double eps = Spectrum.unitRoundoff(type == DataType.DOUBLE);
                double[] rowMajor = RowMajor.of(k);
                String what = kind + " " + type + " seed " + seed;
                assertThat(KeyIncoherence.coherence(rowMajor, 0, m, d, eps)).as(what)
                        .isCloseTo(ref.keyCoherence(0, m), within(1e-9 * ref.keyCoherence(0, m)));
                assertThat(KeyIncoherence.coherence(rowMajor, 1, m - 1, d, eps)).as(what + " without key 0")
                        .isCloseTo(ref.keyCoherence(1, m - 1), within(1e-9 * ref.keyCoherence(1, m - 1)));
                double[] both = KeyIncoherence.coherenceWithAndWithoutFirst(CentredKeys.of(rowMajor, 0, m, d), eps);
                assertThat(both[0]).as(what + ", both").isCloseTo(ref.keyCoherence(0, m), within(1e-9 * ref.keyCoherence(0, m)));
                assertThat(both[1]).as(what + ", both, without key 0")
                        .isCloseTo(ref.keyCoherence(1, m - 1), within(1e-9 * ref.keyCoherence(1, m - 1)));
            }
        }
    }
}
