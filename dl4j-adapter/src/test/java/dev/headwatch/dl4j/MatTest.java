package dev.headwatch.dl4j;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class MatTest {

    @Test
    void mulT_equalsOneDotProductAtATime_toTheLastBit() {
        SplittableRandom random = new SplittableRandom(11);
        for (int n = 1; n <= 9; n++) {                   // every remainder of the 4 x 4 blocks
            for (int m = 1; m <= 9; m++) {
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

    @Test
    void mul_equalsTheProductSummedInOrder_toTheLastBit() {
        SplittableRandom random = new SplittableRandom(12);
        for (int n : new int[]{1, 4, 7}) {
            for (int m : new int[]{1, 5, 16}) {
                for (int k : new int[]{1, 6, 32}) {
                    double[][] a = random(random, n, k);
                    double[][] b = random(random, k, m);
                    double[][] ab = Mat.mul(a, b);
                    for (int i = 0; i < n; i++) {
                        for (int j = 0; j < m; j++) {
                            double s = 0;
                            for (int l = 0; l < k; l++) {
                                s += a[i][l] * b[l][j];
                            }
                            assertThat(ab[i][j]).as("n=%d m=%d k=%d (%d, %d)", n, m, k, i, j).isEqualTo(s);
                        }
                    }
                }
            }
        }
    }

    @Test
    void attend_matchesSoftmaxByHand_andARowThatSeesNoKeyIsZero() {
        SplittableRandom random = new SplittableRandom(13);
        int t = 6;
        double[][] q = new double[t][3];
        double[][] k = new double[t][3];
        for (int i = 0; i < t; i++) {
            for (int l = 0; l < 3; l++) {
                q[i][l] = random.nextDouble(-3, 3);
                k[i][l] = random.nextDouble(-3, 3);
            }
        }
        double[][] v = random(random, t, 5);
        boolean[][] visible = new boolean[t][t];
        for (int i = 1; i < t; i++) {
            for (int j = 0; j < i; j++) {
                visible[i][j] = true;                    // row 0 sees nothing
            }
        }
        double tau = 0.7;
        double[][] out = Mat.attend(q, k, v, tau, null, visible);
        assertThat(out[0]).containsOnly(0.0);
        for (int i = 1; i < t; i++) {
            double[] w = new double[i];
            double z = 0;
            for (int j = 0; j < i; j++) {
                double s = 0;
                for (int l = 0; l < 3; l++) {
                    s += q[i][l] * k[j][l];
                }
                w[j] = Math.exp(tau * s);
                z += w[j];
            }
            for (int c = 0; c < 5; c++) {
                double o = 0;
                for (int j = 0; j < i; j++) {
                    o += w[j] / z * v[j][c];
                }
                assertThat(out[i][c]).as("row %d col %d", i, c).isCloseTo(o, org.assertj.core.api.Assertions.within(1e-12 * Math.max(1, Math.abs(o))));
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
