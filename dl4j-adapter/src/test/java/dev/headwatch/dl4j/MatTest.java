package dev.headwatch.dl4j;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class MatTest {

    @Test
    void mulT_equalsOneDotProductAtATime_toTheLastBit() {
        SplittableRandom random = new SplittableRandom(11);
        for (int n = 1; n <= 3; n++) {
            for (int m = 1; m <= 9; m++) {               // every remainder of the four-column blocks
                for (int k : new int[]{1, 5, 16}) {
                    double[][] a = random(random, n, k);
                    double[][] b = random(random, m, k);
                    double[][] ab = Mat.mulT(a, b);
                    for (int i = 0; i < n; i++) {
                        for (int j = 0; j < m; j++) {
                            double s = 0;
                            for (int l = 0; l < k; l++) {
                                s += a[i][l] * b[j][l];
                            }
                            assertThat(ab[i][j]).as("n=%d m=%d k=%d (%d, %d)", n, m, k, i, j).isEqualTo(s);
                        }
                    }
                }
            }
        }
    }

    private static double[][] random(SplittableRandom random, int rows, int cols) {
        double[][] a = new double[rows][cols];
        for (double[] row : a) {
            for (int j = 0; j < cols; j++) {
                row[j] = random.nextDouble(-1, 1) * Math.pow(10, random.nextInt(-3, 4));
            }
        }
        return a;
    }
}
