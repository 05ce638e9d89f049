package dev.headwatch.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class HeadPassFiniteTest {

    @Test
    void allFinite_findsEveryNonFiniteValue_atEveryPosition_ofShortAndLongArrays() {
        double[] bad = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};
        for (int length = 0; length <= 11; length++) {
            double[] x = new double[length];
            for (int i = 0; i < length; i++) {
                x[i] = i % 3 == 0 ? Double.MAX_VALUE : i % 3 == 1 ? -0.0 : -Double.MIN_VALUE * i;
            }
            assertThat(HeadPass.allFinite(x)).as("finite, length %d", length).isTrue();
            for (int at = 0; at < length; at++) {
                for (double v : bad) {
                    double[] y = Arrays.copyOf(x, length);
                    y[at] = v;
                    assertThat(HeadPass.allFinite(y)).as("%s at %d of %d", v, at, length).isFalse();
                }
            }
        }
    }
}
