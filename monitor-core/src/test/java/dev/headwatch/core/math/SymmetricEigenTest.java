package dev.headwatch.core.math;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The Java eigensolver against LAPACK {@code syev} through ND4J. */
class SymmetricEigenTest {

    private static double[] lapack(double[] a, int n) {
        INDArray m = Nd4j.createFromArray(a).reshape('c', n, n).dup('f');
        INDArray w = Nd4j.create(DataType.DOUBLE, n);
        Nd4j.getBlasWrapper().lapack().syev('N', 'L', m, w);
        return Dense.sortDescending(w.toDoubleVector());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 7, 64, 129})
    void matchesLapack_onRandomGramAndIndefiniteMatrices(int n) {
        SplittableRandom random = new SplittableRandom(n);
        double[] x = new double[n * n];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextGaussian();
        }
        double[] sym = new double[n * n];
        double[] gram = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < n; k++) {
                sym[i * n + k] = x[i * n + k] + x[k * n + i];
                for (int j = 0; j <= Math.min(i, k); j++) { // E E^T of a lower-triangular E: rank-deficient tail
                    gram[i * n + k] += x[i * n + j] * x[k * n + j] * (j % 5 == 4 ? 1e-6 : 1);
                }
            }
        }
        for (double[] a : new double[][] {sym, gram}) {
            double[] expected = lapack(a, n);
            double[] lowerOnly = a.clone();
            for (int i = 0; i < n; i++) {
                for (int k = i + 1; k < n; k++) {
                    lowerOnly[i * n + k] = Double.NaN; // the upper triangle is not read
                }
            }
            double[] actual = Dense.sortDescending(SymmetricEigen.eigenvalues(lowerOnly, n));
            double scale = Math.max(Math.abs(expected[0]), Math.abs(expected[n - 1]));
            for (int i = 0; i < n; i++) {
                assertThat(actual[i]).as("lambda_%d of %d", i, n).isCloseTo(expected[i], within(1e-12 * n * scale));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 4, 30})
    void diagonalAndZeroMatrices(int n) {
        double[] diag = new double[n * n];
        for (int i = 0; i < n; i++) {
            diag[i * n + i] = i - 2.5;
        }
        double[] values = SymmetricEigen.eigenvalues(diag, n);
        Arrays.sort(values);
        for (int i = 0; i < n; i++) {
            assertThat(values[i]).isEqualTo(i - 2.5);
        }
        assertThat(SymmetricEigen.eigenvalues(new double[n * n], n)).containsOnly(0.0);
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 6})
    void nanIsAnErrorNotALoop(int n) {
        double[] a = new double[n * n];
        a[n] = Double.NaN;
        a[0] = 1;
        assertThatThrownBy(() -> SymmetricEigen.eigenvalues(a, n)).isInstanceOf(IllegalStateException.class);
    }
}
