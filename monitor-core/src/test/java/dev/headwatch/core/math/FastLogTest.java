package dev.headwatch.core.math;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FastLogTest {

    /** Within two units in the last place of the result, plus the rounding of {@code m / c} (near x = 1). */
    private static void close(double x) {
        double exact = StrictMath.log(x);
        assertThat(Math.abs(FastLog.log(x) - exact)).as("log(%s)", x)
                .isLessThanOrEqualTo(2 * Math.ulp(exact) + 0x1p-52);
    }

    @Test
    void agreesWithStrictMathAcrossMagnitudesAndBins() {
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 1_000_000; i++) {
            close(Math.exp(random.nextDouble(-700, 700)));
        }
        for (int i = 0; i < 100_000; i++) {
            close(1 + random.nextDouble(-1e-3, 1e-3)); // near 1, where the result is tiny
        }
    }

    @Test
    void edgesOfTheBinsAndExactPowersOfTwo() {
        for (int e = -1022; e <= 1023; e++) {
            close(Math.scalb(1.0, e));
            close(Math.nextDown(Math.scalb(1.0, e)));
            close(Math.nextUp(Math.scalb(1.0, e)));
        }
        for (int bin = 0; bin <= 2048; bin++) {
            close(1 + bin / 2048.0);
            close(Math.nextDown(1 + bin / 2048.0));
        }
    }

    @Test
    void xLogXIsXTimesTheLogarithm() {
        SplittableRandom random = new SplittableRandom(11);
        for (int i = 0; i < 100_000; i++) {
            double x = Math.exp(random.nextDouble(-700, 2));
            assertThat(FastLog.xLogX(x)).isEqualTo(x * FastLog.log(x));
        }
        assertThat(FastLog.xLogX(0.0)).isZero();
        assertThat(FastLog.xLogX(Double.MIN_VALUE)).isEqualTo(Double.MIN_VALUE * Math.log(Double.MIN_VALUE));
        assertThat(FastLog.xLogX(Double.NaN)).isNaN();
        assertThat(FastLog.xLogX(-0.5)).isNaN();
    }

    @Test
    void specialValuesAreMathLogs() {
        assertThat(FastLog.log(0.0)).isEqualTo(Double.NEGATIVE_INFINITY);
        assertThat(FastLog.log(Double.MIN_VALUE)).isEqualTo(Math.log(Double.MIN_VALUE));
        assertThat(FastLog.log(Double.POSITIVE_INFINITY)).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(FastLog.log(-1.0)).isNaN();
        assertThat(FastLog.log(Double.NaN)).isNaN();
    }
}
