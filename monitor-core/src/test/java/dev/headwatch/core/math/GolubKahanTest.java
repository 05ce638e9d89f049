package dev.headwatch.core.math;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The values-only bidiagonal SVD against LAPACK {@code gesvd}, the Jacobi SVD and hand-derived values. */
class GolubKahanTest {

    /** Column-major rows x cols. */
    private static double[] lapack(double[] a, int rows, int cols) {
        INDArray m = Nd4j.create(a, new long[] {rows, cols}, 'f').castTo(DataType.DOUBLE).dup('f');
        INDArray s = Nd4j.create(DataType.DOUBLE, Math.min(rows, cols));
        Nd4j.getBlasWrapper().lapack().gesvd(m, s, null, null);
        return Dense.sortDescending(s.toDoubleVector());
    }

    private static double[] random(int rows, int cols, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double[] a = new double[rows * cols];
        for (int i = 0; i < a.length; i++) {
            a[i] = random.nextGaussian();
        }
        return a;
    }

    @ParameterizedTest
    @CsvSource({"1,1", "2,2", "16,16", "31,16", "16,31", "5,1", "1,5", "64,64", "17,3"})
    void matchesLapackAndJacobi_onGaussianMatrices(int rows, int cols) {
        double[] a = random(rows, cols, 31L * rows + cols);
        double[] before = a.clone();
        double[] actual = GolubKahan.singularValues(a, rows, cols);
        assertThat(a).as("input untouched").containsExactly(before);
        double[] expected = lapack(a, rows, cols);
        double[] jacobi = java.util.Arrays.copyOf(
                Dense.sortDescending(Dense.jacobi(a.clone(), rows, cols, null)), Math.min(rows, cols));
        assertThat(actual).hasSize(Math.min(rows, cols));
        for (int i = 0; i < actual.length; i++) {
            assertThat(actual[i]).as("sigma_%d", i).isCloseTo(expected[i], within(1e-13 * expected[0]));
            assertThat(actual[i]).as("sigma_%d vs Jacobi", i).isCloseTo(jacobi[i], within(1e-13 * expected[0]));
        }
    }

    @Test
    void handDerived_2x2() {
        // A = [[3, 0], [4, 5]]: A^T A = [[25, 20], [20, 25]], eigenvalues 45 and 5
        double[] sigma = GolubKahan.singularValues(new double[] {3, 4, 0, 5}, 2, 2);
        assertThat(sigma[0]).isCloseTo(3 * Math.sqrt(5), within(1e-14));
        assertThat(sigma[1]).isCloseTo(Math.sqrt(5), within(1e-14));
    }

    @Test
    void diagonalWithSignsAndZeros_givesTheAbsoluteValuesSorted() {
        int n = 5;
        double[] a = new double[n * n];
        double[] diag = {-2, 0, 7, 0.5, -0};
        for (int i = 0; i < n; i++) {
            a[i * n + i] = diag[i];
        }
        assertThat(GolubKahan.singularValues(a, n, n)).containsExactly(7, 2, 0.5, 0, 0);
        assertThat(GolubKahan.singularValues(new double[12], 4, 3)).containsOnly(0.0);
    }

    @Test
    void rankDeficientAndGraded_resolveSmallValuesToRounding() {
        int rows = 24;
        int cols = 16;
        // A = U diag(s) V^T with known s spanning 1 .. 1e-12 and two exact zeros
        double[] u = orthonormalColumns(rows, cols, 1);
        double[] v = orthonormalColumns(cols, cols, 2);
        double[] s = new double[cols];
        for (int i = 0; i < cols - 2; i++) {
            s[i] = Math.pow(10, -12.0 * i / (cols - 3));
        }
        double[] a = new double[rows * cols];
        for (int j = 0; j < cols; j++) {
            for (int i = 0; i < rows; i++) {
                double x = 0;
                for (int t = 0; t < cols; t++) {
                    x += u[t * rows + i] * s[t] * v[t * cols + j];
                }
                a[j * rows + i] = x;
            }
        }
        double[] sigma = GolubKahan.singularValues(a, rows, cols);
        for (int i = 0; i < cols; i++) {
            assertThat(sigma[i]).as("sigma_%d", i).isCloseTo(s[i], within(1e-14));
        }
    }

    @Test
    void extremeScales_giveScaledValues() {
        double[] a = random(12, 7, 21);
        double[] sigma = GolubKahan.singularValues(a, 12, 7);
        for (double scale : new double[] {1e-300, 1e-160, 1e160, 1e300}) {
            double[] scaled = a.clone();
            for (int i = 0; i < scaled.length; i++) {
                scaled[i] *= scale;
            }
            double[] values = GolubKahan.singularValues(scaled, 12, 7);
            for (int i = 0; i < sigma.length; i++) {
                assertThat(values[i] / scale).as("sigma_%d at scale %g", i, scale).isCloseTo(sigma[i], within(1e-12 * sigma[0]));
            }
        }
    }

    @Test
    void nonFiniteInput_givesNaNValues() {
        double[] a = random(4, 3, 9);
        a[5] = Double.NaN;
        assertThat(GolubKahan.singularValues(a, 4, 3)).hasSize(3).containsOnly(Double.NaN);
        a[5] = Double.NEGATIVE_INFINITY;
        assertThat(GolubKahan.singularValues(a, 4, 3)).hasSize(3).containsOnly(Double.NaN);
    }

    /** Column-major rows x cols with orthonormal columns (Gram-Schmidt of Gaussian columns, twice). */
    private static double[] orthonormalColumns(int rows, int cols, long seed) {
        double[] q = random(rows, cols, seed);
        for (int j = 0; j < cols; j++) {
            for (int pass = 0; pass < 2; pass++) {
                for (int t = 0; t < j; t++) {
                    double dot = Dense.dot(q, t * rows, q, j * rows, rows);
                    for (int i = 0; i < rows; i++) {
                        q[j * rows + i] -= dot * q[t * rows + i];
                    }
                }
            }
            double norm = Math.sqrt(Dense.dot(q, j * rows, q, j * rows, rows));
            for (int i = 0; i < rows; i++) {
                q[j * rows + i] /= norm;
            }
        }
        return q;
    }
}
