package dev.headwatch.core.math;

/**
 * Redundancy between the heads of one layer on the same sequence (METRICS.md items 12-13).
 *
 * <p>{@code energyCorrelation(h, g) = <E^h, E^g>_F / (|E^h|_F |E^g|_F)} in {@code [-1, 1]}, NaN when either
 * field is zero. A head's {@code maxRedundancy} is its largest correlation with another head and
 * {@code redundancyPartner} that head (lowest index on ties); both NaN for a single head or when every
 * correlation is NaN.
 *
 * <p>References: "Specialization of softmax attention heads", arXiv:2603.03993 (many heads stay
 * redundant).
 */
public final class Redundancy {

    private Redundancy() {
    }

    /** The Frobenius cosine of two equally long flattened matrices; NaN when either is zero. */
    public static double correlation(double[] a, double[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("matrices differ in size: " + a.length + " and " + b.length);
        }
        return correlation(inner(a, 0, b, 0, a.length), inner(a, 0, a, 0, a.length), inner(b, 0, b, 0, b.length));
    }

    /** {@code x[xo..xo+len) . y[yo..yo+len)}: one row's share of {@code <E^h, E^g>_F}. */
    public static double inner(double[] x, int xo, double[] y, int yo, int len) {
        return Dense.dot(x, xo, y, yo, len);
    }

    /** {@code ab / sqrt(aa bb)} clipped to {@code [-1, 1]}, from the inner product and both squared norms; NaN when either norm is 0. */
    public static double correlation(double ab, double aa, double bb) {
        if (aa == 0 || bb == 0) {
            return Double.NaN;
        }
        return Math.max(-1.0, Math.min(1.0, ab / Math.sqrt(aa * bb)));
    }

    /**
     * For head h of a symmetric correlation matrix: {@code {maxRedundancy, redundancyPartner}}, the
     * largest defined correlation with another head and that head (lowest index on ties); NaNs if none.
     */
    public static double[] maxPartner(double[][] correlation, int h) {
        double best = Double.NaN;
        int partner = -1;
        for (int g = 0; g < correlation.length; g++) {
            double c = correlation[h][g];
            if (g != h && !Double.isNaN(c) && (partner < 0 || c > best)) {
                best = c;
                partner = g;
            }
        }
        return new double[] {best, partner < 0 ? Double.NaN : partner};
    }
}
