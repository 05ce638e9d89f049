package dev.headwatch.core.math;

/**
 * The natural logarithm by table and polynomial, for the inner loop of the Jensen-Shannon divergence
 * (one logarithm per attention entry and pair of heads). With {@code x = 2^e m}, {@code m in [1, 2)}, and
 * {@code c} the centre of the 1/2048-wide bin of m, {@code ln x = e ln 2 + ln c + ln(1 + r)},
 * {@code r = m / c - 1}, {@code |r| < 2^-12}, and four terms of the series of {@code ln(1 + r)} leave a
 * truncation error below {@code 2^-60}. Absolute error: about one unit in the last place of the result
 * (measured against {@link StrictMath#log} in the tests); zero, subnormal, infinite and NaN inputs go to
 * {@link Math#log}.
 */
final class FastLog {

    private static final int BITS = 11;
    private static final double LN2 = 0.6931471805599453;
    /** Per bin: {@code 1/c} and {@code ln c} (as {@code -ln(1/c)}, so that {@code r} uses the same rounded 1/c). */
    private static final double[] TABLE = new double[2 << BITS];

    static {
        for (int i = 0; i < 1 << BITS; i++) {
            double inv = 1 / (1 + (i + 0.5) / (1 << BITS));
            TABLE[2 * i] = inv;
            TABLE[2 * i + 1] = -StrictMath.log(inv);
        }
    }

    private FastLog() {
    }

    static double log(double x) {
        long bits = Double.doubleToRawLongBits(x);
        int exponent = (int) (bits >>> 52);
        if (exponent == 0 || exponent >= 0x7FF) {
            return Math.log(x); // zero, subnormal, negative, infinite or NaN
        }
        return normalLog(bits, exponent);
    }

    /**
     * {@code x ln x}, with {@code 0 ln 0 = 0}. The common case runs without a data-dependent branch, so
     * that consecutive calls in a loop overlap.
     */
    static double xLogX(double x) {
        long bits = Double.doubleToRawLongBits(x);
        int exponent = (int) (bits >>> 52);
        double l = normalLog(bits, exponent);
        if (exponent == 0 || exponent >= 0x7FF) {
            return x == 0 ? 0 : x * Math.log(x);
        }
        return x * l;
    }

    private static double normalLog(long bits, int exponent) {
        int bin = (int) (bits >>> (51 - BITS)) & (((1 << BITS) - 1) << 1);
        double m = Double.longBitsToDouble((bits & 0xFFFFFFFFFFFFFL) | 0x3FF0000000000000L);
        double r = m * TABLE[bin] - 1;
        double series = r - r * r * (0.5 - r * (1.0 / 3 - r * 0.25));
        return (exponent - 1023) * LN2 + TABLE[bin + 1] + series;
    }
}
