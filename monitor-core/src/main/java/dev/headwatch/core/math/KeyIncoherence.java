package dev.headwatch.core.math;

/**
 * Key coherence (METRICS.md item 8, derived): how much a few key positions dominate the key space.
 *
 * <p>With {@code Kc} the m visible keys centred over positions, {@code G = Kc^T Kc}, leverage
 * {@code l_j = kc_j^T G^+ kc_j} (pseudo-inverse with the numerical-rank tolerance
 * {@code s_1 max(m, d) eps}) and {@code r = rank(Kc)}, {@code keyCoherence = (m / r) max_j l_j} in
 * {@code [1, m/r]}: near 1 no position is special; large when a few keys span directions nobody else
 * does. With {@code R} the factor of a thin QR of the centred keys ({@code G = R^T R}), the rank comes
 * from R's singular values; at full rank the leverages are {@code |R^-T kc_j|^2} (a triangular solve per
 * key), otherwise the squared row norms of {@code Kc V_r S_r^-1} with {@code S, V} from an SVD of R
 * ({@code O(m d^2)} either way).
 * NaN when {@code r = 0} (all keys equal, or a single key).
 *
 * <p>Proven bound (FULL): {@code s_j <= l_j / stableRank(E)}, so incoherent keys force delocalised
 * energy.
 *
 * <p>References: "On the Invariants of Softmax Attention", arXiv:2605.02907 (variance spread over key
 * positions traced to key incoherence).
 */
public final class KeyIncoherence {

    private KeyIncoherence() {
    }

    /**
     * The key coherence of rows {@code from .. from+m-1} of a row-major {@code [*, d]} key matrix.
     *
     * @param eps unit roundoff of the input precision ({@link Spectrum#unitRoundoff})
     */
    public static double coherence(double[] keys, int from, int m, int d, double eps) {
        return coherence(CentredKeys.of(keys, from, m, d), eps);
    }

    /** As {@link #coherence(double[], int, int, int, double)}, with the keys already factored. */
    public static double coherence(CentredKeys keys, double eps) {
        int m = keys.m;
        int d = keys.d;
        if (m < 2) {
            return Double.NaN;
        }
        int rank = rank(Lapack.svd(keys.r, keys.p, d, null), m, d, eps);
        if (rank == 0) {
            return Double.NaN;
        }
        double[] kc = centred(keys);
        double max = 0;
        if (rank == d) {
            // Full rank: G = R^T R is invertible and l_j = |R^{-T} kc_j|^2, one triangular solve per key.
            double[] r = keys.r;
            double[] y = new double[d];
            for (int i = 0; i < m; i++) {
                double l = 0;
                for (int c = 0; c < d; c++) {
                    double x = kc[i * d + c] - Dense.dot(r, c * d, y, 0, c);
                    y[c] = x / r[c * d + c];
                    l += y[c] * y[c];
                }
                max = Math.max(max, l);
            }
        } else {
            // l_j = |kc_j^T V_r S_r^-1|^2: one (m x d) x (d x r) product.
            double[] v = new double[d * d];
            double[] s = Lapack.svd(keys.r, keys.p, d, v);
            double tol = max(s) * Math.max(m, d) * eps;
            rank = rank(s, m, d, eps);  // of these values, which may differ from the first ones in the last bit
            if (rank == 0) {
                return Double.NaN;
            }
            double[] w = new double[d * rank];
            int t = 0;
            for (int c = 0; c < d; c++) {
                if (s[c] > tol) {
                    for (int i = 0; i < d; i++) {
                        w[i * rank + t] = v[c * d + i] / s[c];
                    }
                    t++;
                }
            }
            double[] projected = Lapack.multiply(kc, m, d, w, rank);
            for (int i = 0; i < m; i++) {
                max = Math.max(max, Dense.dot(projected, i * rank, projected, i * rank, rank));
            }
        }
        return m / (double) rank * max;
    }

    /** The number of singular values above {@code max(sigma) max(m, d) eps}. */
    private static int rank(double[] sigma, int m, int d, double eps) {
        double tol = max(sigma) * Math.max(m, d) * eps;
        int rank = 0;
        for (double s : sigma) {
            if (s > tol) {
                rank++;
            }
        }
        return rank;
    }

    private static double max(double[] x) {
        double max = 0;
        for (double v : x) {
            max = Math.max(max, v);
        }
        return max;
    }

    /** The keys centred over their positions, row-major {@code m x d}. */
    private static double[] centred(CentredKeys keys) {
        int m = keys.m;
        int d = keys.d;
        double[] kc = new double[m * d];
        double[] mean = new double[d];
        for (int i = 0; i < m; i++) {
            for (int c = 0; c < d; c++) {
                mean[c] += keys.keys[(keys.from + i) * d + c];
            }
        }
        for (int c = 0; c < d; c++) {
            mean[c] /= m;
        }
        for (int i = 0; i < m; i++) {
            for (int c = 0; c < d; c++) {
                kc[i * d + c] = keys.keys[(keys.from + i) * d + c] - mean[c];
            }
        }
        return kc;
    }
}
