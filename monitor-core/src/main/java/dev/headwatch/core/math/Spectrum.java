package dev.headwatch.core.math;

import dev.headwatch.core.HeadInput;
import dev.headwatch.core.Visibility;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The singular values of the energy field and the rank figures built on them (METRICS.md item 6).
 *
 * <p>FULL and PADDED heads: {@code E = (tau Q) Kc^T} with keys centred over the visible positions, so
 * the nonzero singular values are those of a {@code d x d} problem ({@code O(n d^2)} to form). Float64
 * inputs: the core {@code R_q R_k^T} of two thin Householder QR factorisations, by a bidiagonal SVD
 * (accurate down to rounding, unlike the square roots of Gram eigenvalues, which resolve only
 * {@code sqrt(eps) sigma_1}). Float32 inputs: the eigenvalues of {@code R_k (tau^2 Q^T Q) R_k^T} in float64,
 * whose resolution is far below the float32 rank tolerance (see {@link #lowRank(double[], CentredKeys,
 * double, boolean)}). CAUSAL heads have no such structure: their spectrum is dense ({@code O(n^3)}, exact).
 * For float64 inputs it comes from a dense SVD of E. For float32 inputs it comes from the eigenvalues of
 * {@code E E^T} in float64 ({@link #causal}), several times faster: they resolve singular values down to
 * {@code sqrt(n eps64) sigma_1} (3e-7 sigma_1 at n = 512), far below the float32 numerical-rank tolerance
 * {@code n eps32 sigma_1} (6e-5 sigma_1), so every figure agrees with the SVD to float32 precision.
 *
 * <p>References: "On the Invariants of Softmax Attention", arXiv:2605.02907 (rank bound, spectral
 * signatures); O. Roy and M. Vetterli, "The effective rank", EUSIPCO 2007.
 */
public final class Spectrum {

    private Spectrum() {
    }

    /**
     * The singular values of E (an {@code n x nk} matrix, zeros off the visible set), descending, length
     * {@code min(n, nk)}. FULL and PADDED use the {@code O(n d^2)} path ({@link #lowRank}); CAUSAL a dense
     * spectrum.
     */
    public static double[] singularValues(HeadInput in) {
        int n = in.n();
        double[] sigma;
        if (in.visibility().kind() == Visibility.Kind.CAUSAL) {
            sigma = in.isDouble()
                    ? dense(EnergyField.centre(EnergyField.logits(in), in.visibility(), n, n), n)
                    : causal(in.queryRows(), in.keyRows(), n, in.d(), in.scale());
        } else {
            boolean padded = in.visibility().kind() == Visibility.Kind.PADDED;
            int m = padded ? in.visibility().length() : in.nk();
            sigma = lowRank(in.queryRows(), padded ? m : n, in.keyRows(), m, in.d(), in.scale(), !in.isDouble());
        }
        return java.util.Arrays.copyOf(sigma, Math.min(n, in.nk()));
    }

    /**
     * Singular values (descending, length {@code min(rows, d)}) of {@code E = (tau Q) Kc^T} for the first
     * {@code rows} rows of row-major {@code Q [*, d]} and the first m rows of {@code K [*, d]}, {@code Kc}
     * the keys centred over those m rows. Rank at most {@code min(d, rows, m - 1)} exactly: the centring is
     * a reflection that drops the all-ones direction, so the trailing values are exact zeros. Cost
     * {@code O((rows + m) d^2)}.
     *
     * @param single whether the inputs are float32 (see {@link #lowRank(double[], int, CentredKeys, double, boolean)})
     */
    public static double[] lowRank(double[] q, int rows, double[] k, int m, int d, double tau, boolean single) {
        return lowRank(q, rows, CentredKeys.of(k, 0, m, d), tau, single);
    }

    /**
     * As {@link #lowRank(double[], int, double[], int, int, double, boolean)}, with the keys already factored
     * ({@code Kc^T Kc = R^T R}); the query rows start at the keys' first row. Float64 inputs: a thin QR of
     * {@code tau Q} and a values-only SVD of the core {@code R_q R^T}, accurate down to rounding. Float32 inputs:
     * the square roots of the eigenvalues of the symmetric {@code R (tau^2 Q^T Q) R^T} ({@code p x p}, whose
     * nonzero eigenvalues are those of {@code E E^T}), in float64: one Gram product instead of a QR, and a
     * symmetric eigenproblem instead of an SVD. They resolve singular values down to about
     * {@code sqrt(d eps64) sigma_1} (6e-8 sigma_1 at d = 16), far below the float32 numerical-rank tolerance
     * {@code max(n, d) eps32 sigma_1} (4e-6 sigma_1 at n = 32), as for the CAUSAL spectrum ({@link #causal}).
     *
     * @throws IllegalStateException when the iteration does not converge (NaN in the input)
     */
    public static double[] lowRank(double[] q, int rows, CentredKeys keys, double tau, boolean single) {
        int d = keys.d;
        int pq = Math.min(rows, d);
        int pk = keys.p;
        if (pk == 0) {
            return new double[pq];
        }
        if (single) {
            // in the calling thread's scratch: overwritten with R Gram R^T, then by the eigenproblem
            double[] gram = Dense.columnGram(q, keys.from, rows, d, Dense.scratch(Dense.GRAM, d * d));
            double[] lambda = SymmetricEigen.eigenvalues(Dense.congruence(keys.r, pk, true, gram, d, 1, gram), pk,
                    Dense.scratch(Dense.EIGEN_DIAGONAL, pk));
            // pk values, of which at most min(rows, pk) are nonzero: the descending first pq are the spectrum.
            double[] all = new double[pk];
            for (int i = 0; i < pk; i++) {
                all[i] = tau * Math.sqrt(Math.max(0, lambda[i]));
            }
            // descending and all >= +0, so the zeros copyOf appends (more queries than the keys' rank) keep the order
            Dense.sortDescending(all);
            return pq == pk ? all : java.util.Arrays.copyOf(all, pq);
        }
        double[] tq = Dense.toColumnMajor(q, keys.from, rows, d);
        for (int i = 0; i < tq.length; i++) {
            tq[i] *= tau;
        }
        double[] core = Dense.multiplyTransposed(Dense.qrR(tq, rows, d), pq, keys.r, pk, d);
        return Dense.sortDescending(java.util.Arrays.copyOf(GolubKahan.singularValues(core, pq, pk), pq));
    }

    /**
     * Singular values (descending) of a dense row-major {@code n x n} matrix, by LAPACK {@code gesvd}
     * through the ND4J backend (singular values only). The argument is not modified.
     */
    public static double[] dense(double[] a, int n) {
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            // Singular values of A^T equal those of A: hand the row-major buffer over as column-major.
            INDArray m = Native.borrowFilled(a, n, n, DataType.DOUBLE, 'f');
            INDArray s = Nd4j.create(DataType.DOUBLE, n);
            Nd4j.getBlasWrapper().lapack().gesvd(m, s, null, null);
            Native.giveBack(m);
            return Dense.sortDescending(s.toDoubleVector());
        }
    }

    /**
     * Singular values (descending, length n) of the CAUSAL energy field of row-major {@code Q, K [n, d]},
     * as the square roots of the eigenvalues of {@code E E^T}. The Gram matrix comes from the structure of
     * E rather than from E: {@code E_ij = u_i . v_j} for {@code j <= i}, with {@code u_i = (tau q_i, -m_i)},
     * {@code v_j = (k_j, 1)} and {@code m_i} the mean logit of row i, so for {@code k <= i}
     * {@code (E E^T)_ik = u_i . w_k} with {@code w_k = P_k u_k}, {@code P_k = sum_{j <= k} v_j v_j^T}:
     * {@code O(n d^2)} for the w and one {@code n x n x (d+1)} product, where forming {@code E E^T} costs
     * {@code n^3}. The symmetric eigenvalues then cost {@code 4/3 n^3}, against {@code 8/3 n^3} for the
     * bidiagonalisation of an SVD. Accurate to float32 precision (see the class comment).
     */
    public static double[] causal(double[] q, double[] k, int n, int d, double tau) {
        int r = d + 1;
        double[] u = new double[n * r];
        double[] w = new double[n * r];
        double[] p = new double[r * r];
        double[] keySum = new double[d];
        double[] v = new double[r];
        v[d] = 1;
        for (int i = 0; i < n; i++) {
            int ki = i * d;
            System.arraycopy(k, ki, v, 0, d);
            for (int a = 0; a < r; a++) {
                double va = v[a];
                int row = a * r;
                for (int b = 0; b < r; b++) { // a plain axpy: the compiler vectorises it
                    p[row + b] += va * v[b];
                }
            }
            double mean = 0;
            for (int c = 0; c < d; c++) {
                keySum[c] += k[ki + c];
                u[i * r + c] = tau * q[ki + c];
                mean += u[i * r + c] * keySum[c];
            }
            u[i * r + d] = -mean / (i + 1);
            for (int a = 0; a < r; a++) {
                w[i * r + a] = Dense.dot(p, a * r, u, i * r, r);
            }
        }
        if ((long) n * n * n < EnergyField.NATIVE_MIN_WORK) {
            // small heads stay in Java: no native call from the monitor's thread while training runs
            double[] gram = new double[n * n];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j <= i; j++) {
                    gram[i * n + j] = Dense.dot(u, i * r, w, j * r, r);
                }
            }
            return rootsDescending(SymmetricEigen.eigenvalues(gram, n));
        }
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            // G_ik = u_i . w_k holds E E^T on and below the diagonal: the triangle LAPACK is told to read.
            // Formed in place in the column-major array LAPACK reads (no reordering copy).
            INDArray gram = Native.borrow(DataType.DOUBLE, n, n, 'f');
            INDArray un = Native.borrowFilled(u, n, r, DataType.DOUBLE, 'c');
            INDArray wn = Native.borrowFilled(w, n, r, DataType.DOUBLE, 'c');
            Nd4j.gemm(un, wn, gram, false, true, 1.0, 0.0);
            INDArray lambda = Nd4j.create(DataType.DOUBLE, n);
            int info = Nd4j.getBlasWrapper().lapack().syev('N', 'L', gram, lambda);
            Native.giveBack(gram, un, wn);
            if (info != 0) {
                throw new IllegalStateException("LAPACK syev did not converge (info " + info + ")");
            }
            return rootsDescending(lambda.toDoubleVector());
        }
    }

    /** Singular values from the eigenvalues of a Gram matrix (rounding can leave tiny negative ones). */
    private static double[] rootsDescending(double[] lambda) {
        for (int i = 0; i < lambda.length; i++) {
            lambda[i] = Math.sqrt(Math.max(0, lambda[i]));
        }
        return Dense.sortDescending(lambda);
    }

    /** Roy-Vetterli effective rank {@code exp(-sum p_k ln p_k)}, {@code p_k = sigma_k / sum sigma}; 0 when all are 0. */
    public static double effectiveRank(double[] sigma) {
        double sum = 0;
        for (double s : sigma) {
            sum += s;
        }
        if (sum == 0) {
            return 0;
        }
        double h = 0;
        for (double s : sigma) {
            if (s > 0) {
                double p = s / sum;
                h -= p * Math.log(p);
            }
        }
        return Math.exp(h);
    }

    /** {@code sum sigma^2 / sigma_1^2} in {@code [1, rank]}; 0 when all are 0. Sigma descending. */
    public static double stableRank(double[] sigma) {
        if (sigma.length == 0 || sigma[0] == 0) {
            return 0;
        }
        return sumSquares(sigma) / (sigma[0] * sigma[0]);
    }

    /** {@code sigma_1^2 / sum sigma^2} in {@code (0, 1]}; 0 when all are 0. Sigma descending. */
    public static double topEnergy(double[] sigma) {
        if (sigma.length == 0 || sigma[0] == 0) {
            return 0;
        }
        return sigma[0] * sigma[0] / sumSquares(sigma);
    }

    /**
     * The count of {@code sigma_k > sigma_1 * max(n, d) * eps}; 0 when all are 0. Sigma descending.
     *
     * @param eps the unit roundoff of the input precision ({@link #unitRoundoff})
     */
    public static int numericalRank(double[] sigma, int n, int d, double eps) {
        if (sigma.length == 0) {
            return 0;
        }
        double tol = sigma[0] * Math.max(n, d) * eps;
        int r = 0;
        for (double s : sigma) {
            if (s > tol) {
                r++;
            }
        }
        return r;
    }

    /** The unit roundoff: {@code 2^-52} for float64, {@code 2^-23} for float32. */
    public static double unitRoundoff(boolean isDouble) {
        return isDouble ? 0x1p-52 : 0x1p-23;
    }

    /**
     * The mechanism bound on rank(E) for n queries and nk keys: {@code min(d, n, nk-1)} for FULL
     * ({@code min(d, n-1)} for self-attention), {@code min(d, len-1)} for PADDED, NaN for CAUSAL, where the
     * mask breaks it.
     */
    public static double rankBound(Visibility visibility, int n, int nk, int d) {
        return switch (visibility.kind()) {
            case FULL -> Math.min(d, Math.min(n, nk - 1));
            case PADDED -> Math.min(d, visibility.length() - 1);
            case CAUSAL -> Double.NaN;
        };
    }

    private static double sumSquares(double[] x) {
        double s = 0;
        for (double v : x) {
            s += v * v;
        }
        return s;
    }
}
