package dev.headwatch.core.math;

import static org.assertj.core.api.Assertions.assertThat;

import dev.headwatch.core.HeadInput;
import dev.headwatch.core.Visibility;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

class EnergyFieldLogitsTest {

    /**
     * Small heads' logits (in Java, four query rows at a time) are exactly the plain loops: {@code tau q_i}
     * in the input precision, each dot product over d in order, rounded to float32 for a FLOAT head.
     */
    @Test
    void javaLogits_equalThePlainLoops_exactly() {
        SplittableRandom random = new SplittableRandom(11);
        for (int n = 1; n <= 9; n++) {                    // every remainder of the blocks of four rows
            for (int nk : new int[] {1, 5, 8}) {
                for (int d : new int[] {1, 3, 16}) {
                    double[] q = gaussian(random, n * d);
                    double[] k = gaussian(random, nk * d);
                    for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
                        HeadInput in = HeadInput.of(q, k, null, d, type, Visibility.FULL, Double.NaN);
                        boolean single = type == DataType.FLOAT;
                        double tau = in.scale();
                        double[] qs = in.queryRows();
                        double[] ks = in.keyRows();
                        double[] s = EnergyField.logits(in);
                        for (int i = 0; i < n; i++) {
                            for (int j = 0; j < nk; j++) {
                                double sum = 0;
                                for (int c = 0; c < d; c++) {
                                    double x = qs[i * d + c];
                                    sum += (single ? (float) (x * (float) tau) : x * tau) * ks[j * d + c];
                                }
                                assertThat(s[i * nk + j]).as("%s n %d nk %d d %d (%d, %d)", type, n, nk, d, i, j)
                                        .isEqualTo(single ? (float) sum : sum);
                            }
                        }
                    }
                }
            }
        }
    }

    private static double[] gaussian(SplittableRandom random, int size) {
        double[] x = new double[size];
        for (int i = 0; i < size; i++) {
            x[i] = random.nextGaussian();
        }
        return x;
    }
}
