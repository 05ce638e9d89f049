package dev.headwatch.core.math;

/**
 * The spectrum of a head's query-key form {@code M = tau Wq^T Wk} ({@code nInQ x nInK}, rank at most hs;
 * queries and keys may come from inputs of different widths)
 * and the overlap of its dominant subspaces with another head's (METRICS.md "Weight-only metrics").
 *
 * <p>Never forms an {@code nInQ x nInK} matrix: with thin QR factorisations {@code Wq^T = Q_a R_a},
 * {@code Wk^T = Q_b R_b}, {@code M = Q_a (tau R_a R_b^T) Q_b^T}, so the singular values of M are those of
 * the (at most) {@code hs x hs} core (one-sided Jacobi, values and vectors in one) and its singular
 * vectors are {@code Q_a U_c}, {@code Q_b V_c}.
 * Cost {@code O((nInQ + nInK) hs^2 + hs^3)}.
 *
 * <p>{@code S_ij = x_i^T M x_j}, so {@code sigma_1(M)} bounds every logit by
 * {@code sigma_1 |x_i| |x_j|}.
 *
 * <p>References: "On the Invariants of Softmax Attention", arXiv:2605.02907; "Specialization of softmax
 * attention heads", arXiv:2603.03993 (overlap of head subspaces).
 */
public final class WeightSpectra {

    /** Subspace size for {@link #overlap}: the top {@code min(hs, nInQ, nInK, 8)} singular directions. */
    public static final int OVERLAP_DIRECTIONS = 8;

    private WeightSpectra() {
    }

    /** The SVD factors of one head's {@code M}: singular values and top singular vectors. */
    public static final class QkFactors {
        private final double[] sigma;
        private final double norm;
        private final double[] left;
        private final double[] right;
        private final int nInQ;
        private final int nInK;
        private final int k;

        private QkFactors(double[] sigma, double norm, double[] left, double[] right, int nInQ, int nInK, int k) {
            this.sigma = sigma;
            this.norm = norm;
            this.left = left;
            this.right = right;
            this.nInQ = nInQ;
            this.nInK = nInK;
            this.k = k;
        }

        /** The singular values of M, descending (length {@code min(hs, nInQ, nInK)}). */
        public double[] singularValues() {
            return sigma.clone();
        }

        /** {@code sigma_1(M)}, the largest singular value (0 for M = 0), as {@link WeightSpectra#spectralNorm} gives it. */
        public double spectralNorm() {
            return norm;
        }

        /** {@code sum sigma^2 / sigma_1^2}; 0 for M = 0. */
        public double stableRank() {
            return Spectrum.stableRank(sigma);
        }

        /** The number k of singular directions kept for the overlap. */
        public int directions() {
            return k;
        }

        /** Left singular vector {@code t < k} of M (length nInQ; zero when its singular value is 0). */
        public double[] left(int t) {
            return java.util.Arrays.copyOfRange(left, t * nInQ, (t + 1) * nInQ);
        }

        /** Right singular vector {@code t < k} of M (length nInK; zero when its singular value is 0). */
        public double[] right(int t) {
            return java.util.Arrays.copyOfRange(right, t * nInK, (t + 1) * nInK);
        }
    }

    /**
     * Factors {@code M = tau Wq^T Wk} for one head.
     *
     * @param wq  {@code Wq_h} row-major {@code [hs, nInQ]}
     * @param wk  {@code Wk_h} row-major {@code [hs, nInK]}
     * @param tau the logit scale
     */
    public static QkFactors factor(double[] wq, double[] wk, int hs, int nInQ, int nInK, double tau) {
        checkSizes(wq, wk, hs, nInQ, nInK);
        int pq = Math.min(hs, nInQ);
        int pk = Math.min(hs, nInK);
        // A row-major [hs, nIn] buffer is the column-major [nIn, hs] layout of its transpose.
        Dense.Qr qa = new Dense.Qr(wq, nInQ, hs);
        Dense.Qr qb = new Dense.Qr(wk, nInK, hs);
        double[] core = Dense.multiplyTransposed(qa.r, pq, qb.r, pk, hs);
        for (int i = 0; i < core.length; i++) {
            core[i] *= tau;
        }
        double[] v = Dense.identity(pk);
        double[] sigma = Dense.jacobi(core, pq, pk, v);
        int[] order = Dense.descendingOrder(sigma);
        double[] values = new double[Math.min(pq, pk)];
        for (int t = 0; t < values.length; t++) {
            values[t] = sigma[order[t]];
        }
        int k = Math.min(Math.min(pq, pk), OVERLAP_DIRECTIONS);
        // Only k singular vectors of M are kept: Q_a u_c and Q_b v_c through the reflectors, Q never formed.
        double[] uk = new double[pq * k];
        double[] vk = new double[pk * k];
        for (int t = 0; t < k; t++) {
            int col = order[t];
            double s = sigma[col];
            if (s == 0) {
                continue;           // a zero singular value has no direction: its vectors stay zero
            }
            for (int c = 0; c < pq; c++) {
                uk[t * pq + c] = core[col * pq + c] / s;
            }
            for (int c = 0; c < pk; c++) {
                vk[t * pk + c] = v[col * pk + c];
            }
        }
        double[] left = qa.timesQ(uk, k);
        double[] right = qb.timesQ(vk, k);
        // sigma_1 as spectralNorm computes it, so live and offline qkSpectralNorm are one number
        return new QkFactors(values, spectralNorm(wq, wk, hs, nInQ, nInK, tau), left, right, nInQ, nInK, k);
    }

    private static void checkSizes(double[] wq, double[] wk, int hs, int nInQ, int nInK) {
        if (wq.length != hs * nInQ || wk.length != hs * nInK) {
            throw new IllegalArgumentException("Wq and Wk must hold hs x nInQ = " + hs + " x " + nInQ + " and hs x nInK = "
                    + hs + " x " + nInK + " values but held " + wq.length + " and " + wk.length);
        }
    }

    /**
     * {@code sigma_1(tau Wq^T Wk)} alone, what live monitoring needs at every observation. With the
     * {@code hs x hs} Gram matrices {@code Gq = Wq Wq^T = L L^T} (Cholesky) and {@code Gk = Wk Wk^T} (queries and
     * keys may have other widths: M is {@code nInQ x nInK}),
     * {@code sigma_1^2 / tau^2} is the largest eigenvalue of the symmetric {@code L^T Gk L} (similar to
     * {@code Gq Gk}, whose nonzero eigenvalues are those of {@code M^T M / tau^2}): {@code hs^2 nIn} for the
     * two Gram matrices and {@code O(hs^3)} after, against {@code 4 nIn hs^2} for two QR factorisations.
     * The error is that of the products, {@code O(hs eps) |Wq| |Wk|} in sigma_1, as for the QR route, which
     * takes over when {@code Gq} is not numerically positive definite ({@code hs > nIn}, a dead head).
     */
    public static double spectralNorm(double[] wq, double[] wk, int hs, int nInQ, int nInK, double tau) {
        checkSizes(wq, wk, hs, nInQ, nInK);
        return spectralNorm(wq, 0, wk, 0, hs, nInQ, nInK, tau, null);
    }

    /**
     * As {@link #spectralNorm(double[], double[], int, int, int, double)} for the head whose rows start at
     * {@code wq[qFrom]} and {@code wk[kFrom]} (a layer's weights, read in place). With {@code warm} (length hs,
     * all zero at first), the eigenproblem starts from the eigenvector the last call left there, and leaves this
     * one's ({@link SymmetricEigen#largest}): live monitoring's route, equal to the full solve's value within
     * {@link SymmetricEigen#CERTIFIED} relative in {@code sigma_1^2}.
     */
    public static double spectralNorm(double[] wq, int qFrom, double[] wk, int kFrom, int hs, int nInQ, int nInK,
                                      double tau, double[] warm) {
        // both Gram matrices in the calling thread's scratch (nothing escapes)
        double[] l = Dense.rowGramLower(wq, qFrom, hs, nInQ, Dense.scratch(Dense.GRAM, hs * hs));
        if (!Dense.cholesky(l, hs)) {
            return spectralNormByQr(java.util.Arrays.copyOfRange(wq, qFrom, qFrom + hs * nInQ),
                    java.util.Arrays.copyOfRange(wk, kFrom, kFrom + hs * nInK), hs, nInQ, nInK, tau);
        }
        // L^T is L read column-major (its lower triangle only: B's row i is read from column i on); the result
        // takes the place of Gk, and L's that of the factorisations of the eigenproblem.
        double[] gk = Dense.rowGramLower(wk, kFrom, hs, nInK, Dense.scratch(Dense.GRAM_KEYS, hs * hs));
        double[] s = Dense.congruence(l, hs, true, gk, hs, 1, gk);
        double max = 0;
        if (warm != null) {
            max = SymmetricEigen.largest(s, hs, warm, l);
        } else {
            double[] lambda = SymmetricEigen.eigenvalues(s, hs, Dense.scratch(Dense.EIGEN_DIAGONAL, hs));
            for (int i = 0; i < hs; i++) {
                max = Math.max(max, lambda[i]);
            }
        }
        return tau * Math.sqrt(max);
    }

    /** {@code sigma_1(tau Wq^T Wk)} from the core of two thin QR factorisations (any rank). */
    static double spectralNormByQr(double[] wq, double[] wk, int hs, int nInQ, int nInK, double tau) {
        int pq = Math.min(hs, nInQ);
        int pk = Math.min(hs, nInK);
        double[] core = Dense.multiplyTransposed(Dense.qrR(wq.clone(), nInQ, hs), pq, Dense.qrR(wk.clone(), nInK, hs), pk, hs);
        for (int i = 0; i < core.length; i++) {
            core[i] *= tau;
        }
        return Math.min(pq, pk) == 0 ? 0 : GolubKahan.singularValues(core, pq, pk)[0];
    }

    /**
     * {@code (|U_h^T U_g|_F^2 + |R_h^T R_g|_F^2) / (2k)} in {@code [0, 1]}: how much the top-k left and
     * right singular subspaces of two heads' {@code M} coincide ({@code k} the smaller of the two heads'
     * direction counts). 1 for identical subspaces, 0 for orthogonal ones, NaN when k = 0.
     */
    public static double overlap(QkFactors h, QkFactors g) {
        if (h.nInQ != g.nInQ || h.nInK != g.nInK) {
            throw new IllegalArgumentException("heads differ in nInQ x nInK: " + h.nInQ + " x " + h.nInK + " and "
                    + g.nInQ + " x " + g.nInK);
        }
        int k = Math.min(h.k, g.k);
        if (k == 0) {
            return Double.NaN;
        }
        int n = h.nInQ;
        int nk = h.nInK;
        double[] lu = new double[k];
        double[] rv = new double[k];
        double sum = 0;
        for (int a = 0; a < k; a++) {
            int b = 0;
            // (queries and keys of one width share the loop; else the left and right sums run apart below)
            for (; n == nk && b + 1 < k; b += 2) {
                // two directions of g at once: four independent sums, each in the order of one at a time
                double l0 = 0, r0 = 0, l1 = 0, r1 = 0;
                int ha = a * n, g0 = b * n, g1 = (b + 1) * n;
                for (int i = 0; i < n; i++) {
                    double hl = h.left[ha + i], hr = h.right[ha + i];
                    l0 += hl * g.left[g0 + i];
                    r0 += hr * g.right[g0 + i];
                    l1 += hl * g.left[g1 + i];
                    r1 += hr * g.right[g1 + i];
                }
                lu[b] = l0;
                rv[b] = r0;
                lu[b + 1] = l1;
                rv[b + 1] = r1;
            }
            for (; b < k; b++) {
                double l = 0, r = 0;
                for (int i = 0; i < n; i++) {
                    l += h.left[a * n + i] * g.left[b * n + i];
                }
                for (int i = 0; i < nk; i++) {
                    r += h.right[a * nk + i] * g.right[b * nk + i];
                }
                lu[b] = l;
                rv[b] = r;
            }
            for (b = 0; b < k; b++) {
                sum += lu[b] * lu[b] + rv[b] * rv[b];
            }
        }
        return Math.min(1.0, sum / (2.0 * k));
    }
}
