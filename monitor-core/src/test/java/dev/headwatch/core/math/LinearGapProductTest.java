package dev.headwatch.core.math;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LinearGapProductTest {

    @Test
    void blockedProduct_isExactlyTheRowByRowOne_inBothPrecisions() {
        int[][] shapes = {{32, 32, 16}, {7, 5, 3}, {1, 9, 1}, {13, 13, 6}, {64, 31, 17}};
        for (int[] s : shapes) {
            int n = s[0], m = s[1], dv = s[2];
            SplittableRandom random = new SplittableRandom(n * 1000L + m * 10L + dv);
            double[] a = new double[n * m];
            double[] vc = new double[m * dv];
            for (int i = 0; i < a.length; i++) {
                a[i] = random.nextDouble() / m;
            }
            for (int i = 0; i < vc.length; i++) {
                vc[i] = random.nextGaussian();
            }
            for (boolean single : new boolean[] {true, false}) {
                assertThat(LinearGap.javaProduct(a, vc, n, m, dv, single))
                        .containsExactly(LinearGap.rowByRow(a, vc, n, m, dv, single));
            }
        }
    }
}
