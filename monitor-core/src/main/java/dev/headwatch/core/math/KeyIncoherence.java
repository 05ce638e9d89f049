package dev.headwatch.core.math;

/**
 * Key coherence (METRICS.md item 8, derived): how much a few key positions dominate the key space.
 *
 * <p>With {@code Kc} the m visible keys centred over positions, {@code G = Kc^T Kc}, leverage
 * {@code l_j = kc_j^T G^+ kc_j} (pseudo-inverse with the numerical-rank tolerance
 * {@code s_1 max(m, d) eps}) and {@code r = rank(Kc)}, {@code keyCoherence = (m / r) max_j l_j} in
 * {@code [1, m/r]}: near 1 no position is special; large when a few keys span directions nobody else
 * does. The leverages are the squared row norms of {@code Kc V_r S_r^-1}, with {@code S, V} from a
 * Jacobi SVD of the {@code R} factor of a thin QR of the centred keys ({@code O(m d^2)}).
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
        double[] lev = leverages(keys, from, m, d, eps);
        if (lev == null) {
            return Double.NaN;
        }
        double max = 0;
        for (int j = 0; j < m; j++) {
            max = Math.max(max, lev[j]);
        }
        // lev[m] carries the rank
        return m / lev[m] * max;
    }

    /**
     * Leverages {@code l_j} of the centred keys (length m), followed by the rank r in the last slot
     * (length m + 1); null when r = 0.
     */
    static double[] leverages(double[] keys, int from, int m, int d, double eps) {
        if (m < 2) {
            return null;
        }
        int p = Math.min(m - 1, d);
        double[] r = Dense.qrR(Dense.centredReduced(keys, from, m, d), m - 1, d);
        double[] v = Dense.identity(d);
        double[] sigma = Dense.jacobi(r, p, d, v);
        double smax = 0;
        for (double s : sigma) {
            smax = Math.max(smax, s);
        }
        double tol = smax * Math.max(m, d) * eps;
        int rank = 0;
        int[] keep = new int[d];
        for (int c = 0; c < d; c++) {
            if (sigma[c] > tol) {
                keep[rank++] = c;
            }
        }
        if (rank == 0) {
            return null;
        }
        double[] mean = new double[d];
        for (int i = 0; i < m; i++) {
            for (int c = 0; c < d; c++) {
                mean[c] += keys[(from + i) * d + c];
            }
        }
        for (int c = 0; c < d; c++) {
            mean[c] /= m;
        }
        double[] kc = new double[d];
        double[] lev = new double[m + 1];
        for (int i = 0; i < m; i++) {
            for (int c = 0; c < d; c++) {
                kc[c] = keys[(from + i) * d + c] - mean[c];
            }
            double l = 0;
            for (int t = 0; t < rank; t++) {
                int col = keep[t];
                double dot = 0;
                for (int c = 0; c < d; c++) {
                    dot += kc[c] * v[col * d + c];
                }
                dot /= sigma[col];
                l += dot * dot;
            }
            lev[i] = l;
        }
        lev[m] = rank;
        return lev;
    }
}
