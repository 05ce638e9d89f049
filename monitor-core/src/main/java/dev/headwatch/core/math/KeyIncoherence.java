package dev.headwatch.core.math;

/**
 * Key coherence (METRICS.md item 8, derived): how much a few key positions dominate the key space.
 *
 * <p>With {@code Kc} the m visible keys centred over positions, {@code G = Kc^T Kc}, leverage
 * {@code l_j = kc_j^T G^+ kc_j} (pseudo-inverse with the numerical-rank tolerance
 * {@code s_1 max(m, d) eps}) and {@code r = rank(Kc)}, {@code keyCoherence = (m / r) max_j l_j} in
 * {@code [1, m/r]}: near 1 no position is special; large when a few keys span directions nobody else
 * does. With {@code R} the factor of a thin QR of the centred keys ({@code G = R^T R}), a column-pivoted
 * QR of R proves the rank and gives the leverages in {@code O(d^3)} plus a product, whenever the rank is
 * clear-cut (see {@link #byPivotedQr}); otherwise they are the squared row norms of {@code Kc V_r S_r^-1}
 * with {@code S, V} from an SVD of R. Cost {@code O(m d^2)} either way.
 * NaN when {@code r = 0} (all keys equal, or a single key).
 *
 * <p>Proven bound (FULL): {@code s_j <= l_j / stableRank(E)}, so incoherent keys force delocalised
 * energy.
 *
 * <p>References: "On the Invariants of Softmax Attention", arXiv:2605.02907 (variance spread over key
 * positions traced to key incoherence).
 */
public final class KeyIncoherence {

    /**
     * Largest {@code |T22|_F |T11^-1|_F} for which the first r pivoted keys' leverages stand in for the SVD's
     * in the deletion update of {@link #coherenceWithAndWithoutFirst}.
     */
    static final double MAX_GAP = 1e-12;

    /** Largest proven relative error of a coherence taken from the pivoted QR instead of the SVD. */
    static final double MAX_ERROR = 1e-12;

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
        return coherence(keys, eps, false);
    }

    /** As above; with {@code ownFactor}, the keys' R is this call's own and is factored in place. */
    private static double coherence(CentredKeys keys, double eps, boolean ownFactor) {
        if (keys.m < 2) {
            return Double.NaN;
        }
        double[] kc = keys.kc;
        PivotedR t = PivotedR.of(keys, ownFactor);
        Pivoted f = byPivotedQr(keys, kc, t, eps, false);
        return f != null ? f.coherence() : bySvd(keys, kc, t, eps);
    }

    /**
     * The key coherence of all m keys and of keys {@code 1 .. m-1} ({@code keyCoherenceNoFirst}, the second
     * centred over its own positions), as {@code {all, withoutFirst}}, each equal to
     * {@link #coherence(double[], int, int, int, double)} on its keys. The second usually comes from the first's
     * factorisation in {@code O(m r)}: with {@code w_j} the rows of {@link #byPivotedQr}'s {@code Kc_P B}
     * ({@code l_j = |w_j|^2}), deleting key 0 changes the hat matrix of {@code [1, K]} by the rank-one update
     * {@code h'_jk = h_jk + h_j0 h_k0 / (1 - h_00)} with {@code h_jk = 1/m + w_j . w_k}, so
     * {@code l'_j = h'_jj - 1/(m-1)}. The deletion scales the pivoted block's squared singular values by at
     * least {@code 1 - m l_0 / (m-1)} and cannot raise the trailing ones, so the first factorisation's bounds
     * prove the rank of the second as well, unless key 0 alone spans a direction (an attention-sink key, where
     * that factor nears 0): then, or whenever the bounds fall short (the update needs the first-order gap
     * {@code |T22|_F |T11^-1|_F} under {@link #MAX_GAP}), the second is computed by the same route as the
     * first, from a factor of keys 1..m-1 ({@link #restOf}).
     */
    public static double[] coherenceWithAndWithoutFirst(CentredKeys keys, double eps) {
        int m = keys.m;
        if (m < 2) {
            return new double[] {Double.NaN, Double.NaN};
        }
        double[] kc = keys.kc;
        PivotedR t = PivotedR.of(keys, false);
        Pivoted f = byPivotedQr(keys, kc, t, eps, m > 2);
        double all = f != null ? f.coherence() : bySvd(keys, kc, t, eps);
        double withoutFirst = f != null && m > 2 ? f.withoutFirst(kc, eps) : Double.NaN;
        if (Double.isNaN(withoutFirst)) {
            withoutFirst = coherence(restOf(keys, eps), eps, true);      // a factor of its own, derived or fresh
        }
        return new double[] {all, withoutFirst};
    }

    /**
     * The keys without key 0, factored: for float32 inputs, from the first factorisation
     * ({@link CentredKeys#withoutFirst}) when key 0 is not nearly alone in its direction; otherwise afresh. The
     * derived factor differs from a fresh one by a few float64 roundings of {@code |R|}, some 2^20 times
     * below the float32 rank tolerance, so it cannot move a rank decision that the pivoted QR proves with any
     * margin; for float64 inputs that tolerance is itself a few roundings, so the factor is formed afresh.
     */
    static CentredKeys restOf(CentredKeys keys, double eps) {
        CentredKeys rest = eps >= MIN_DERIVED_EPS ? keys.withoutFirst(MIN_SHRINK) : null;
        return rest != null ? rest : CentredKeys.of(keys.keys, keys.from + 1, keys.m - 1, keys.d);
    }

    /** The smallest unit roundoff for which {@link #restOf} derives the factor (float32's is 2^-23). */
    static final double MIN_DERIVED_EPS = 0x1p-32;

    /** The coherence of keys 1..m-1 by the deletion update alone, NaN where it does not apply (for tests). */
    static double withoutFirstByUpdate(CentredKeys keys, double eps) {
        double[] kc = keys.kc;
        Pivoted f = keys.m > 2 ? byPivotedQr(keys, kc, PivotedR.of(keys, false), eps, true) : null;
        return f == null ? Double.NaN : f.withoutFirst(kc, eps);
    }

    /**
     * The coherence of all m keys by the pivoted QR (NaN where it does not prove its answer) and by the SVD
     * (for tests).
     */
    static double[] byEachRoute(CentredKeys keys, double eps) {
        double[] kc = keys.kc;
        PivotedR t = PivotedR.of(keys, false);
        Pivoted f = byPivotedQr(keys, kc, t, eps, false);
        return new double[] {f == null ? Double.NaN : f.coherence(), bySvd(keys, kc, t, eps)};
    }

    /** Below this factor {@code 1 - m l_0 / (m-1)} the keys without key 0 are factored afresh. */
    static final double MIN_SHRINK = 1.0 / 16;

    /**
     * A proven-rank factorisation of m centred keys: the leverages {@code l_j = |w_j|^2} and
     * {@code w_j . w_0} for the rows {@code w_j} of {@code Kc_P B} ({@link #rowNorms}),
     * {@code |R|_F^2}, {@code |T22|_F^2} and {@code |T11^-1|_F^2}.
     */
    private record Pivoted(int m, int d, int rank, double[] leverages, double[] dotsWithFirst, double fro2,
                           double tail2, double inv2) {

        double coherence() {
            return m / (double) rank * max(leverages);
        }

        /** The coherence of keys 1..m-1 from this factorisation, or NaN when it cannot be proven here. */
        double withoutFirst(double[] kc, double eps) {
            double l0 = leverages[0];
            double alpha = m / (m - 1.0);
            double shrink = 1 - alpha * l0;
            if (!(shrink >= MIN_SHRINK)) {
                return Double.NaN;
            }
            double scaledEps = Math.max(m - 1, d) * eps;
            double fro2Rest = fro2 - alpha * Dense.dot(kc, 0, kc, 0, d);   // |Kc'|_F^2, the scatter without key 0
            int pRest = Math.min(m - 2, d);
            boolean rankProven = tail2 * pRest <= fro2Rest * scaledEps * scaledEps
                    && shrink > inv2 * fro2 * scaledEps * scaledEps
                    && tail2 * inv2 <= MAX_GAP * MAX_GAP * shrink;
            if (!rankProven) {
                return Double.NaN;
            }
            double inside = 1.0 / m - 1.0 / (m - 1);
            double outside = 1 - 1.0 / m - l0;                            // 1 - h_00
            double max = 0;
            for (int j = 1; j < m; j++) {
                double h0 = 1.0 / m + dotsWithFirst[j];
                max = Math.max(max, leverages[j] + inside + h0 * h0 / outside);
            }
            return (m - 1) / (double) rank * max;
        }
    }

    /**
     * Key coherence from a column-pivoted QR of R, {@code R P = Q T}, when it proves its answer. The rank r
     * first: with {@code T11} T's leading {@code r x r} block and {@code T22} the trailing one,
     * {@code sigma_{r+1} <= |T22|_F} and {@code sigma_r >= 1 / |T11^-1|_F}, so r is the rank when the first
     * is below and the second above every value the tolerance can take ({@code sigma_1} lies in
     * {@code [|R|_F / sqrt(p), |R|_F]}); when those bounds fall short, from T's singular values
     * ({@link #rankBySingularValues}). Then the leverages: of full rank d, through {@code T^-1}; otherwise over
     * the range of {@code T Z}, Z from k steps of subspace iteration ({@link #leverageBasis}). With
     * {@code e = |T22|_F |T11^-1|_F}: the rows of T11's block row M span the top-r right singular subspace
     * within a tangent {@code 1.42 e^2} (Davis-Kahan: the rows after r change {@code T^T T} by
     * {@code |T22|^2}; {@code e^2 <= 1/4}), each step multiplies it by {@code (sigma_{r+1} / sigma_r)^2 <= e^2},
     * and the range of {@code T Z} is then the top-r left singular subspace within {@code e} times that: each
     * leverage is off by at most {@code 1.42 e^(2k+3)}, and the coherence, at least 1 in units of {@code r/m},
     * by at most {@code 1.42 (m/r) e^(2k+3)} relative. k is the fewest steps (at most 2) that bring this under
     * {@link #MAX_ERROR}. Null when the rank is too close to call or the bound falls short. Keys rounded to
     * float32 from a lower-rank matrix (a layer reading few tokens) have {@code e} near 1e-4 and noise singular
     * values just under the tolerance; the first r pivoted keys alone would give leverages off by {@code 2e}.
     */
    private static Pivoted byPivotedQr(CentredKeys keys, double[] kc, PivotedR factor, double eps,
                                       boolean withDots) {
        int m = keys.m;
        int d = keys.d;
        int p = keys.p;
        double fro2 = factor.fro2;
        if (!(fro2 > 0) || Double.isInfinite(fro2)) {
            return null;
        }
        int[] perm = factor.perm;
        double[] t = factor.t;
        double scaledEps = Math.max(m, d) * eps;
        double tolLow2 = fro2 / p * scaledEps * scaledEps;
        // tail2[k]: squared Frobenius norm of T's rows k.. (the block T22 when the rank is k)
        double[] tail2 = new double[p + 1];
        for (int i = p - 1; i >= 0; i--) {
            double row = 0;
            for (int j = i; j < d; j++) {
                row += t[j * p + i] * t[j * p + i];
            }
            tail2[i] = tail2[i + 1] + row;
        }
        int rank = 0;
        while (rank < p && tail2[rank] > tolLow2) {
            rank++;
        }
        double[] inverse = upperInverse(t, p, rank);
        double inv2 = Dense.dot(inverse, 0, inverse, 0, rank * rank);
        if (!(rank > 0 && inv2 * fro2 * scaledEps * scaledEps < 1)) {
            rank = rankBySingularValues(t, p, d, scaledEps);
            if (rank <= 0) {
                return null;
            }
            inverse = upperInverse(t, p, rank);
            inv2 = Dense.dot(inverse, 0, inverse, 0, rank * rank);
        }
        double gap2 = tail2[rank] * inv2;
        int steps = 0;
        while (gap2 <= 0.25 && steps <= 2 && 1.42 * m / rank * Math.pow(gap2, steps + 1.5) > MAX_ERROR) {
            steps++;
        }
        if (!(gap2 <= 0.25) || steps > 2) {
            return null;
        }
        // Kc_P B = Kc (P B): B's row c is row perm[c]. Keys of full rank d: T is square and invertible, and
        // its inverse is the basis.
        double[] unpivoted;
        if (rank == d) {
            unpivoted = Dense.scratch(Dense.KEY_BASIS, d * rank);
            for (int c = 0; c < d; c++) {
                System.arraycopy(inverse, c * rank, unpivoted, perm[c] * rank, rank);
            }
        } else {
            unpivoted = leverageBasis(t, p, d, rank, steps, perm, inverse);   // reads T11^-1, then overwrites it
        }
        double[] leverages = new double[m];
        double[] dotsWithFirst = withDots ? new double[m] : null;      // only the deletion update reads them
        rowNorms(kc, m, d, unpivoted, rank, leverages, dotsWithFirst);
        return new Pivoted(m, d, rank, leverages, dotsWithFirst, fro2, tail2[rank], inv2);
    }

    /**
     * The numerical rank from the singular values of the column-major {@code p x d} T
     * ({@link GolubKahan}, within {@code 4 max(p, d) eps64 sigma_1} of the exact ones), or -1 when one lies
     * within twice that of the tolerance {@code sigma_1 scaledEps}.
     */
    private static int rankBySingularValues(double[] t, int p, int d, double scaledEps) {
        double[] sigma = GolubKahan.singularValues(t, p, d);
        double tol = sigma[0] * scaledEps;
        double error = 4 * Math.max(p, d) * Math.ulp(1.0) * sigma[0];
        int rank = 0;
        for (double s : sigma) {
            if (!(Math.abs(s - tol) > 2 * error)) {
                return -1;
            }
            rank += s > tol ? 1 : 0;
        }
        return rank;
    }

    /**
     * {@code T11^-1}, row-major {@code r x r} (zeros below the diagonal) in the calling thread's scratch, of the
     * leading block of a column-major {@code p x d} upper-trapezoidal T.
     */
    private static double[] upperInverse(double[] t, int p, int r) {
        double[] x = Dense.scratch(Dense.KEY_INVERSE, r * r); // upper triangular, by back substitution per column
        java.util.Arrays.fill(x, 0, r * r, 0.0);
        int col = 0;
        for (; col + 1 < r; col += 2) {
            // two columns at a time, two independent chains of substitutions; column col+1's one extra term
            // per entry comes last, as in its own substitution
            int c1 = col + 1;
            x[c1 * r + c1] = 1 / t[c1 * p + c1];
            for (int i = col; i >= 0; i--) {
                double sum0 = i == col ? 1 : 0;
                double sum1 = 0;
                for (int j = i + 1; j <= col; j++) {
                    double tj = t[j * p + i];
                    sum0 -= tj * x[j * r + col];
                    sum1 -= tj * x[j * r + c1];
                }
                sum1 -= t[c1 * p + i] * x[c1 * r + c1];
                x[i * r + col] = sum0 / t[i * p + i];
                x[i * r + c1] = sum1 / t[i * p + i];
            }
        }
        for (; col < r; col++) {
            for (int i = col; i >= 0; i--) {
                double sum = i == col ? 1 : 0;
                for (int j = i + 1; j <= col; j++) {
                    sum -= t[j * p + i] * x[j * r + col];
                }
                x[i * r + col] = sum / t[i * p + i];
            }
        }
        return x;
    }

    /**
     * The row-major {@code d x r} matrix B whose product with the pivoted centred keys has the leverages as
     * squared row norms. With Z a basis (any, not only an orthonormal one) of an r-dimensional subspace of
     * {@code R^d}, the keys' left factor rows {@code u_j} ({@code kc_j = T^T u_j}) project on the range of
     * {@code T Z} with squared norm {@code |S^-T Z^T kc_j|^2}, S the R factor of {@code T Z}; so
     * {@code B = Z S^-1}. Z starts as the row space of T's first r rows and takes {@code steps} steps of
     * subspace iteration with {@code T^T T}. Returned unpivoted, {@code P B}: B's row c is row {@code perm[c]}.
     * {@code room} ({@code r x r}) holds {@code T11^-1} on entry and is overwritten with the R factors. Its work
     * arrays and B are in the calling thread's scratch.
     */
    private static double[] leverageBasis(double[] t, int p, int d, int r, int steps, int[] perm, double[] room) {
        // Z = [I; (T11^-1 T12)^T], column-major d x r: the row space of T's first r rows (T11^-1 times them),
        // no worse conditioned than T11 is after the pivoting, so it needs no orthonormalising to start from
        double[] z = Dense.scratch(Dense.KEY_Z, d * r);
        for (int i = 0; i < r; i++) {
            int zi = i * d;
            java.util.Arrays.fill(z, zi, zi + r, 0.0);
            z[zi + i] = 1;
            for (int c = r; c < d; c++) {
                double sum = 0;
                for (int j = i; j < r; j++) {
                    sum += room[i * r + j] * t[c * p + j];
                }
                z[zi + c] = sum;
            }
        }
        double[] s = room;                                   // R factors, of which only the last is kept
        double[] tz = Dense.scratch(Dense.KEY_TZ, p * r);
        for (int step = 0; step < steps; step++) {
            times(t, p, d, z, r, tz);
            transposeTimes(t, p, d, tz, r, z);
            orthonormalise(z, d, r, s);
        }
        times(t, p, d, z, r, tz);
        orthonormalise(tz, p, r, s);                         // s: R factor of T Z, column-major r x r
        double[] b = p == d ? tz : Dense.scratch(Dense.KEY_B, d * r); // T Z is no longer needed
        int c = 0;
        for (; c + 3 < d; c += 4) {                          // rows c of Z S^-1: solve S^T b_c = z_c, four at a time
            int row0 = perm[c] * r;
            int row1 = perm[c + 1] * r;
            int row2 = perm[c + 2] * r;
            int row3 = perm[c + 3] * r;
            for (int i = 0; i < r; i++) {
                double sum0 = z[i * d + c];
                double sum1 = z[i * d + c + 1];
                double sum2 = z[i * d + c + 2];
                double sum3 = z[i * d + c + 3];
                for (int j = 0; j < i; j++) {
                    double sij = s[i * r + j];
                    sum0 -= sij * b[row0 + j];
                    sum1 -= sij * b[row1 + j];
                    sum2 -= sij * b[row2 + j];
                    sum3 -= sij * b[row3 + j];
                }
                double sii = s[i * r + i];
                b[row0 + i] = sum0 / sii;
                b[row1 + i] = sum1 / sii;
                b[row2 + i] = sum2 / sii;
                b[row3 + i] = sum3 / sii;
            }
        }
        for (; c < d; c++) {
            int row = perm[c] * r;
            for (int i = 0; i < r; i++) {
                double sum = z[i * d + c];
                for (int j = 0; j < i; j++) {
                    sum -= s[i * r + j] * b[row + j];
                }
                b[row + i] = sum / s[i * r + i];
            }
        }
        return b;
    }

    /**
     * Orthonormalises the columns of a column-major {@code rows x cols} matrix in place (Gram-Schmidt, each
     * column twice against the ones before, which keeps them orthonormal to rounding) and writes the R
     * factor, column-major {@code cols x cols} upper triangular, into {@code r}: a thin QR without reflectors,
     * for the small blocks of {@link #leverageBasis}.
     */
    private static void orthonormalise(double[] a, int rows, int cols, double[] r) {
        java.util.Arrays.fill(r, 0, cols * cols, 0.0);
        if (cols == 0) {
            return;
        }
        // Each step subtracts a projection and is latency-bound (its dot product needs the step before), so
        // column j's second pass runs alongside column j+1's first, which reads only the finished columns
        // before j: two independent chains. Each subtraction is fused with its column's next dot product,
        // summed as Dense.dot sums it; every column sees the same operations in the same order as one column
        // at a time, twice over, would.
        double proj = Dense.dot(a, 0, a, 0, rows);          // column j's pending step (or |a_j|^2 before its norm)
        for (int j = 0; j < cols; j++) {
            int cj = j * rows;
            int ck = cj + rows;
            boolean next = j + 1 < cols;
            double projNext = next && j > 0 ? Dense.dot(a, 0, a, ck, rows) : 0;
            for (int i = 0; i < j; i++) {
                int ci = i * rows;
                r[j * cols + i] += proj;
                int dotJ = i + 1 < j ? ci + rows : cj;     // column j's next step, else its norm
                if (!next) {
                    proj = subtractAndDot(a, cj, ci, proj, dotJ, rows);
                    continue;
                }
                r[(j + 1) * cols + i] += projNext;
                int dotK = i + 1 < j ? ci + rows : ci;     // column j+1's next step, unless against column j
                double s0 = 0, s1 = 0, s2 = 0, s3 = 0, t0 = 0, t1 = 0, t2 = 0, t3 = 0;
                int k = 0;
                for (; k + 3 < rows; k += 4) {
                    double x0 = a[ci + k], x1 = a[ci + k + 1], x2 = a[ci + k + 2], x3 = a[ci + k + 3];
                    double y0 = a[cj + k] - proj * x0;
                    double y1 = a[cj + k + 1] - proj * x1;
                    double y2 = a[cj + k + 2] - proj * x2;
                    double y3 = a[cj + k + 3] - proj * x3;
                    double z0 = a[ck + k] - projNext * x0;
                    double z1 = a[ck + k + 1] - projNext * x1;
                    double z2 = a[ck + k + 2] - projNext * x2;
                    double z3 = a[ck + k + 3] - projNext * x3;
                    a[cj + k] = y0;
                    a[cj + k + 1] = y1;
                    a[cj + k + 2] = y2;
                    a[cj + k + 3] = y3;
                    a[ck + k] = z0;
                    a[ck + k + 1] = z1;
                    a[ck + k + 2] = z2;
                    a[ck + k + 3] = z3;
                    s0 += a[dotJ + k] * y0;
                    s1 += a[dotJ + k + 1] * y1;
                    s2 += a[dotJ + k + 2] * y2;
                    s3 += a[dotJ + k + 3] * y3;
                    t0 += a[dotK + k] * z0;
                    t1 += a[dotK + k + 1] * z1;
                    t2 += a[dotK + k + 2] * z2;
                    t3 += a[dotK + k + 3] * z3;
                }
                for (; k < rows; k++) {
                    double x = a[ci + k];
                    double y = a[cj + k] - proj * x;
                    double z = a[ck + k] - projNext * x;
                    a[cj + k] = y;
                    a[ck + k] = z;
                    s0 += a[dotJ + k] * y;
                    t0 += a[dotK + k] * z;
                }
                proj = (s0 + s1) + (s2 + s3);
                projNext = (t0 + t1) + (t2 + t3);
            }
            double norm = Math.sqrt(proj);
            r[j * cols + j] = norm;
            for (int k = 0; k < rows; k++) {
                a[cj + k] /= norm;
            }
            if (next) {                                      // column j+1's last step of its first pass
                double last = Dense.dot(a, cj, a, ck, rows);
                r[(j + 1) * cols + j] += last;
                proj = subtractAndDot(a, ck, cj, last, 0, rows);
            }
        }
    }

    /**
     * {@code a_j -= proj a_i} over the columns of a starting at {@code cj} and {@code ci}, then the dot product
     * of the updated {@code a_j} with the column at {@code next} summed as {@link Dense#dot} sums it, in one
     * pass.
     */
    private static double subtractAndDot(double[] a, int cj, int ci, double proj, int next, int rows) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int k = 0;
        for (; k + 3 < rows; k += 4) {
            double y0 = a[cj + k] - proj * a[ci + k];
            double y1 = a[cj + k + 1] - proj * a[ci + k + 1];
            double y2 = a[cj + k + 2] - proj * a[ci + k + 2];
            double y3 = a[cj + k + 3] - proj * a[ci + k + 3];
            a[cj + k] = y0;
            a[cj + k + 1] = y1;
            a[cj + k + 2] = y2;
            a[cj + k + 3] = y3;
            s0 += a[next + k] * y0;
            s1 += a[next + k + 1] * y1;
            s2 += a[next + k + 2] * y2;
            s3 += a[next + k + 3] * y3;
        }
        for (; k < rows; k++) {
            double y = a[cj + k] - proj * a[ci + k];
            a[cj + k] = y;
            s0 += a[next + k] * y;
        }
        return (s0 + s1) + (s2 + s3);
    }

    /**
     * {@code T X} into {@code out} (column-major {@code p x k}) for the column-major {@code p x d}
     * upper-trapezoidal T and column-major {@code d x k} X.
     */
    private static void times(double[] t, int p, int d, double[] x, int k, double[] out) {
        // each entry sums its terms in order of j from 0, four rows at a time in registers: rows i+1.. join
        // the sums at their own diagonal, T being upper trapezoidal
        for (int c = 0; c < k; c++) {
            int xc = c * d;
            int oc = c * p;
            int i = 0;
            for (; i + 3 < p; i += 4) {
                double x0 = x[xc + i], x1 = x[xc + i + 1], x2 = x[xc + i + 2];
                double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                s0 += t[i * p + i] * x0;
                s0 += t[(i + 1) * p + i] * x1;
                s1 += t[(i + 1) * p + i + 1] * x1;
                s0 += t[(i + 2) * p + i] * x2;
                s1 += t[(i + 2) * p + i + 1] * x2;
                s2 += t[(i + 2) * p + i + 2] * x2;
                for (int j = i + 3; j < d; j++) {
                    double xj = x[xc + j];
                    int tj = j * p + i;
                    s0 += t[tj] * xj;
                    s1 += t[tj + 1] * xj;
                    s2 += t[tj + 2] * xj;
                    s3 += t[tj + 3] * xj;
                }
                out[oc + i] = s0;
                out[oc + i + 1] = s1;
                out[oc + i + 2] = s2;
                out[oc + i + 3] = s3;
            }
            for (; i < p; i++) {
                double sum = 0;
                for (int j = i; j < d; j++) {
                    sum += t[j * p + i] * x[xc + j];
                }
                out[oc + i] = sum;
            }
        }
    }

    /**
     * {@code T^T Y} into {@code out} (column-major {@code d x k}) for the column-major {@code p x d}
     * upper-trapezoidal T and column-major {@code p x k} Y.
     */
    private static void transposeTimes(double[] t, int p, int d, double[] y, int k, double[] out) {
        for (int c = 0; c < k; c++) {
            for (int j = 0; j < d; j++) {
                out[c * d + j] = Dense.dot(t, j * p, y, c * p, Math.min(j + 1, p));
            }
        }
    }

    /**
     * R's column-pivoted QR, {@code R P = Q T}: T column-major {@code p x d}, column c from R's column
     * {@code perm[c]}.
     */
    private record PivotedR(double[] t, int[] perm, double fro2) {
        /** With {@code inPlace}, R is overwritten (the keys' own, not needed after); {@code fro2} is {@code |R|_F^2}. */
        static PivotedR of(CentredKeys keys, boolean inPlace) {
            int[] perm = new int[keys.d];
            double fro2 = Dense.dot(keys.r, 0, keys.r, 0, keys.r.length);
            double[] r = inPlace ? keys.r : keys.r.clone();
            return new PivotedR(Dense.pivotedQrR(r, keys.p, keys.d, perm), perm, fro2);
        }
    }

    /**
     * Key coherence by the definition: an SVD of R, {@code l_j = |kc_j^T V_r S_r^-1|^2}. The SVD is that of
     * the pivoted T ({@code V = P V_T}): its rows, ordered by size, take Jacobi about half the sweeps R's do.
     */
    private static double bySvd(CentredKeys keys, double[] kc, PivotedR factor, double eps) {
        int m = keys.m;
        int d = keys.d;
        double[] v = new double[d * d];
        double[] s = Dense.svd(factor.t, keys.p, d, v);
        double tol = max(s) * Math.max(m, d) * eps;
        int rank = 0;
        for (double sigma : s) {
            if (sigma > tol) {
                rank++;
            }
        }
        if (rank == 0) {
            return Double.NaN;
        }
        double[] w = new double[d * rank];
        int t = 0;
        for (int c = 0; c < d; c++) {
            if (s[c] > tol) {
                for (int i = 0; i < d; i++) {
                    w[factor.perm[i] * rank + t] = v[c * d + i] / s[c];
                }
                t++;
            }
        }
        double[] leverages = new double[m];
        rowNorms(kc, m, d, w, rank, leverages, null);
        return m / (double) rank * max(leverages);
    }

    /**
     * The squared norms of the rows {@code w_j} of {@code Kc W} (Kc row-major {@code m x d}, W row-major
     * {@code d x r}) into {@code norms2} and, unless null, {@code w_j . w_0} into {@code dotsWithFirst}. The
     * product is formed four rows at a time (the blocked product's block, so the same sums), each block read
     * before the next is formed: {@code Kc W} is never stored whole.
     */
    private static void rowNorms(double[] kc, int m, int d, double[] w, int r, double[] norms2,
                                 double[] dotsWithFirst) {
        double[] rows = Dense.scratch(Dense.KEY_ROWS, Math.min(m, 4) * r);
        double[] first = dotsWithFirst == null ? null : Dense.scratch(Dense.KEY_FIRST, r);
        for (int from = 0; from < m; from += 4) {
            int count = Math.min(4, m - from);
            Dense.multiply(kc, from * d, count, d, w, r, rows, 0);
            if (from == 0 && first != null) {
                System.arraycopy(rows, 0, first, 0, r);
            }
            for (int x = 0; x < count; x++) {
                norms2[from + x] = Dense.dot(rows, x * r, rows, x * r, r);
                if (dotsWithFirst != null) {
                    dotsWithFirst[from + x] = Dense.dot(rows, x * r, first, 0, r);
                }
            }
        }
    }

    private static double max(double[] x) {
        double max = 0;
        for (double v : x) {
            max = Math.max(max, v);
        }
        return max;
    }
}
