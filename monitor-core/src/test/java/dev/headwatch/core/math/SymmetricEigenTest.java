package dev.headwatch.core.math;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
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

    /** The largest eigenvalue by the full solve, the reference of {@link SymmetricEigen#largest}. */
    private static double fullLargest(double[] a, int n) {
        return Arrays.stream(SymmetricEigen.eigenvalues(a.clone(), n)).max().orElseThrow();
    }

    /** {@code G G^T} (lower triangle, row-major) of a row-major {@code n x cols} G. */
    private static double[] gram(double[] g, int n, int cols) {
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                a[i * n + j] = Dense.dot(g, i * cols, g, j * cols, cols);
            }
        }
        return a;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 8, 16, 33})
    void largest_alongAWalk_equalsTheFullSolve_andIsProvenFromTheLastVector(int n) {
        SplittableRandom random = new SplittableRandom(n + 100);
        int cols = n + 3;
        double[] g = new double[n * cols];
        for (int i = 0; i < g.length; i++) {
            g[i] = random.nextGaussian();
        }
        double[] x = new double[n];
        int steps = 40;
        int proven = 0;
        for (int step = 0; step < steps; step++) {
            for (int i = 0; i < g.length; i++) {
                g[i] += 0.02 * random.nextGaussian();   // an optimizer step's worth
            }
            double[] a = gram(g, n, cols);
            double expected = fullLargest(a, n);
            if (step > 0 && !Double.isNaN(SymmetricEigen.proven(a, n, x.clone(), new double[n * n]))) {
                proven++;
            }
            double[] before = a.clone();
            double[] y = x.clone();
            double[] room = new double[n * n + 1];
            java.util.Arrays.fill(room, Double.NaN);          // what the room held before does not matter
            double withRoom = SymmetricEigen.largest(a, n, y, room);
            assertThat(SymmetricEigen.largest(a, n, x)).as("step %d", step)
                    .isCloseTo(expected, within(1e-12 * expected)).isEqualTo(withRoom);
            assertThat(x).containsExactly(y);
            assertThat(a).isEqualTo(before);
        }
        // the last vector proves the next value (rarely, near-equal top eigenvalues may need the full solve)
        assertThat(proven).isGreaterThanOrEqualTo(steps - 4);
    }

    @Test
    void largest_fromAWrongVector_repeatedTopValues_zeroAndNaN() {
        // x is the eigenvector of 1, orthogonal to the top one's: no proof, the full solve answers
        double[] lower = {1, 0, 0, 0, 5, 0, 0, 0, 2};
        assertThat(SymmetricEigen.proven(lower, 3, new double[] {1, 0, 0}, new double[9])).isNaN();
        double[] x = {1, 0, 0};
        assertThat(SymmetricEigen.largest(lower, 3, x)).isEqualTo(5);
        assertThat(SymmetricEigen.proven(lower, 3, x, new double[9])).isCloseTo(5, within(1e-12));
        // x next to the eigenvector of a value 1e-7 below the top one: a residual small enough to try the proof
        // at once, which fails; the answer is still the top value
        double[] close = {5, 0, 0, 0, 5 * (1 - 1e-7), 0, 0, 0, 2};
        double[] near = {1e-3, 1, 0};
        assertThat(SymmetricEigen.proven(close, 3, near.clone(), new double[9])).isNaN();
        assertThat(SymmetricEigen.largest(close, 3, near)).isEqualTo(5);
        // a twice-repeated top eigenvalue: any vector of its eigenspace proves it
        double[] twiceLower = {3, 0, 0, 0, 3, 0, 0, 0, 1};
        assertThat(SymmetricEigen.largest(twiceLower, 3, new double[] {0.6, 0.8, 0})).isEqualTo(3);
        double[] zero = new double[9];
        double[] v = {1, 1, 1};
        assertThat(SymmetricEigen.largest(zero, 3, v)).isZero();
        assertThat(v).containsOnly(0.0);
        double[] nan = {1, 0, 0, Double.NaN, 2, 0, 0, 0, 3};
        assertThatThrownBy(() -> SymmetricEigen.largest(nan, 3, new double[] {0, 0, 1}))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("non-finite");
        double[] overflow = {1, 0, 0, Double.POSITIVE_INFINITY, 2, 0, 0, 1, 3};
        assertThatThrownBy(() -> SymmetricEigen.eigenvalues(overflow, 3))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("non-finite");
    }
}
