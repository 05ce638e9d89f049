package dev.headwatch.core.math;

/**
 * The keys of one head centred over a run of positions, factored once for both the spectrum of E
 * ({@link Spectrum#lowRank(double[], int, CentredKeys, double, boolean)}) and key coherence
 * ({@link KeyIncoherence#coherenceWithAndWithoutFirst(CentredKeys, double)}): {@code Kc^T Kc = R^T R} with R the
 * {@code min(m-1, d) x d} factor of a thin QR of the reflected, centred keys (see the reduction in
 * {@link Spectrum#lowRank(double[], int, double[], int, int, double, boolean)}). Cost {@code O(m d^2)}.
 */
public final class CentredKeys {

    final double[] keys;
    final int from;
    final int m;
    final int d;
    /** The keys centred over the m positions, row-major {@code m x d}. */
    final double[] kc;
    /** Column-major {@code p x d} with {@code p = min(m - 1, d)}. */
    final double[] r;
    final int p;

    private CentredKeys(double[] keys, int from, int m, int d) {
        this.keys = keys;
        this.from = from;
        this.m = m;
        this.d = d;
        this.p = Math.max(0, Math.min(m - 1, d));
        this.kc = Dense.centred(keys, from, m, d);
        this.r = m < 2 ? new double[0] : Dense.qrR(Dense.reduced(kc, m, d), m - 1, d);
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
        return new CentredKeys(keys, from, m, d);
    }

    /** The number of positions m. */
    public int positions() {
        return m;
    }
}
