package dev.headwatch.core.math;

/**
 * The keys of one head centred over a run of positions, factored once for both the spectrum of E
 * ({@link Spectrum#lowRank(double[], int, CentredKeys, double, boolean)}) and key coherence
 * ({@link KeyIncoherence#coherenceWithAndWithoutFirst(CentredKeys, double)}): {@code Kc^T Kc = R^T R} with R the
 * {@code min(m-1, d) x d} factor of a thin QR of the reflected, centred keys (see {@link Dense#reduced}). Cost
 * {@code O(m d^2)}.
 */
public final class CentredKeys {

    final double[] keys;
    final int from;
    final int m;
    final int d;
    /** The keys centred over the m positions, row-major {@code m x d}. */
    final double[] kc;
    /**
     * Column-major {@code p x d} with {@code p = min(m - 1, d)}; upper trapezoidal, except as
     * {@link #withoutFirst} derives it (for key coherence alone).
     */
    final double[] r;
    final int p;
    /**
     * Row 0 of the m x p orthonormal factor {@code U} of {@code Kc = U R} ({@code kc_0 = R^T u_0}), for
     * {@link #withoutFirst}; null when m - 2 < d, where the keys without key 0 have a shorter factor.
     */
    private final double[] u0;

    private CentredKeys(double[] keys, int from, int m, int d, double[] kc, double[] r, double[] u0) {
        this.keys = keys;
        this.from = from;
        this.m = m;
        this.d = d;
        this.p = Math.max(0, Math.min(m - 1, d));
        this.kc = kc;
        this.r = r;
        this.u0 = u0;
    }

    private static CentredKeys factored(double[] keys, int from, int m, int d) {
        double[] kc = Dense.centred(keys, from, m, d);
        if (m - 2 < d) {
            double[] r = m < 2 ? new double[0] : Dense.qrR(Dense.reduced(kc, m, d), m - 1, d);
            return new CentredKeys(keys, from, m, d, kc, r, null);
        }
        // U = H [0; Q] with H the centring reflector of Dense.reduced and Q the QR's: its row 0 is
        // Q^T (H e_0 without its first entry), a constant times Q^T 1, which the QR carries along.
        // m - 1 > d rows: R is copied out of the factored array, which can be the thread's scratch
        double[] a = Dense.reduced(kc, m, d, 1, Dense.scratch(Dense.REDUCED_KEYS, (m - 1) * (d + 1)));
        double[] r = Dense.qrR(a, m - 1, d, 1);
        double u = 1.0 / Math.sqrt(m);
        double w0 = u - 1.0;
        double scale = -2.0 * u * w0 / (w0 * w0 + (m - 1) * u * u);
        double[] u0 = new double[d];                          // p = d here
        for (int i = 0; i < d; i++) {
            u0[i] = scale * a[d * (m - 1) + i];
        }
        return new CentredKeys(keys, from, m, d, kc, r, u0);
    }

    /**
     * Factors rows {@code from .. from+m-1} of a row-major {@code [*, d]} key matrix (referenced, not
     * copied: do not modify it afterwards).
     */
    public static CentredKeys of(double[] keys, int from, int m, int d) {
        if (from < 0 || m < 0 || (long) (from + m) * d > keys.length) {
            throw new IllegalArgumentException("rows " + from + ".." + (from + m - 1) + " of a [*, " + d
                    + "] matrix need " + (long) (from + m) * d + " values but it holds " + keys.length);
        }
        return factored(keys, from, m, d);
    }

    /**
     * The keys without key 0, centred over their own m - 1 positions, with a factor derived from this one in
     * {@code O(d^2)} instead of a new QR; null when m - 2 < d or when key 0 has a leverage
     * {@code |u_0|^2} of {@code (m-1)/m} times {@code 1 - minShrink} or more (a key nearly alone in its
     * direction, which the deletion would cancel). Deleting key 0 and centring again is
     * {@code Kc' = C S Kc = (C S U) R} (S drops row 0, C centres m - 1 rows; U's columns are orthogonal to
     * the ones vector), and {@code (C S U)^T (C S U) = I - a u_0 u_0^T} with {@code a = m / (m-1)}: so
     * {@code Kc'^T Kc' = R'^T R'} with {@code R' = (I - g u_0 u_0^T) R}, {@code g = a / (1 + sqrt(s))},
     * {@code s = 1 - a |u_0|^2} (the square root of that rank-one matrix, written without cancellation).
     * R' is not triangular; it carries the rounding of R and of one rank-one update.
     */
    CentredKeys withoutFirst(double minShrink) {
        if (u0 == null) {
            return null;
        }
        double alpha = m / (m - 1.0);
        double shrink = 1 - alpha * Dense.dot(u0, 0, u0, 0, p);
        if (!(shrink >= minShrink)) {
            return null;
        }
        double g = alpha / (1 + Math.sqrt(shrink));
        double[] rest = r.clone();
        for (int c = 0; c < d; c++) {
            double k0 = g * Dense.dot(u0, 0, r, c * p, p);       // g (R^T u_0)_c
            for (int i = 0; i < p; i++) {
                rest[c * p + i] -= k0 * u0[i];
            }
        }
        return new CentredKeys(keys, from + 1, m - 1, d, Dense.centred(keys, from + 1, m - 1, d), rest, null);
    }

    /** The number of positions m. */
    public int positions() {
        return m;
    }
}
