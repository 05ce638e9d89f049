package dev.headwatch.core.math;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The vector API's products against the plain-Java kernel: the same bits for every shape, including rows and
 * columns left over from the register blocks, offsets into larger arrays, and {@code A B^T}. This module's
 * tests run with the vector module, so the monitor's own tests exercise the vector path throughout.
 */
class VectorProductsTest {

    @Test
    void testsRunOnTheVectorApi() {
        assertThat(Dense.VECTOR).as("surefire starts this module's tests with --add-modules jdk.incubator.vector").isTrue();
        assertThat(Products.vectorised()).isTrue();
        assertThat(VectorProducts.LANES).isGreaterThanOrEqualTo(2);
    }

    @Test
    void product_equalsThePlainJavaKernel_bitForBit() {
        Random rnd = new Random(11);
        int lanes = VectorProducts.LANES;
        int[] colCounts = {lanes, lanes + 1, 2 * lanes - 1, 2 * lanes, 2 * lanes + 3, 3 * lanes, 4 * lanes + 1, 64};
        for (int rows : new int[] {1, 3, 4, 5, 8, 11, 32}) {
            for (int inner : new int[] {1, 2, 7, 16, 33}) {
                for (int cols : colCounts) {
                    for (boolean transposed : new boolean[] {false, true}) {
                        int aFrom = rnd.nextInt(5);
                        int bFrom = rnd.nextInt(5);
                        int cFrom = rnd.nextInt(5);
                        double[] a = gaussian(rnd, aFrom + rows * inner);
                        double[] b = gaussian(rnd, bFrom + inner * cols);
                        double[] expected = gaussian(new Random(rows), cFrom + rows * cols + 2);
                        double[] actual = expected.clone();

                        Dense.scalarProduct(a, aFrom, rows, inner, b, bFrom, cols, transposed, false, expected, cFrom);
                        VectorProducts.product(a, aFrom, rows, inner, b, bFrom, cols, transposed, actual, cFrom);

                        assertThat(actual).as("%d x %d x %d, transposed %s", rows, inner, cols, transposed)
                                .containsExactly(expected);
                    }
                }
            }
        }
    }

    @Test
    void product_keepsSignedZerosAndNonFiniteValuesAsThePlainKernel() {
        double[] a = {0.0, -0.0, Double.POSITIVE_INFINITY, 1, Double.NaN, 2, -0.0, -0.0};   // 4 x 2
        double[] b = new double[2 * 2 * VectorProducts.LANES];                            // 2 x 2 LANES
        for (int i = 0; i < b.length; i++) {
            b[i] = i % 3 == 0 ? -0.0 : (i % 3 == 1 ? -1.5 : Double.MAX_VALUE);
        }
        int cols = 2 * VectorProducts.LANES;
        double[] expected = Dense.scalarProduct(a, 0, 4, 2, b, 0, cols, false, false, new double[4 * cols], 0);
        double[] actual = VectorProducts.product(a, 0, 4, 2, b, 0, cols, false, new double[4 * cols], 0);

        for (int i = 0; i < expected.length; i++) {
            assertThat(Double.isNaN(actual[i])).isEqualTo(Double.isNaN(expected[i]));
            if (!Double.isNaN(expected[i])) {
                assertThat(Double.doubleToRawLongBits(actual[i])).as("entry %d", i)
                        .isEqualTo(Double.doubleToRawLongBits(expected[i]));
            }
        }
    }

    private static double[] gaussian(Random rnd, int length) {
        double[] x = new double[length];
        for (int i = 0; i < length; i++) {
            x[i] = rnd.nextGaussian();
        }
        return x;
    }
}
