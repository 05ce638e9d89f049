package dev.headwatch.core.math;

/**
 * Singular values alone of a small dense matrix, by Golub-Kahan-Reinsch: Householder bidiagonalisation
 * ({@code 4 m n^2 - 4/3 n^3} flops) and implicit-shift QR sweeps on the bidiagonal ({@code O(n^2)}), the
 * algorithm of LINPACK {@code dsvdc} and JAMA without the singular vectors. Backward stable like the
 * one-sided Jacobi of {@link Dense#jacobi}, whose sweeps cost several times more at {@code n = 16}; used
 * where the vectors are not needed.
 */
final class GolubKahan {

    private static final double EPS = Math.ulp(1.0);
    private static final double TINY = Math.scalb(1.0, -966);

    private GolubKahan() {
    }

    /**
     * The singular values, descending (length {@code min(rows, cols)}), of a column-major
     * {@code rows x cols} matrix, all NaN when it holds NaN or infinity. The argument is not modified.
     */
    static double[] singularValues(double[] a, int rows, int cols) {
        double maxAbs = 0;
        for (double x : a) {
            if (!Double.isFinite(x)) {
                double[] nan = new double[Math.min(rows, cols)];
                java.util.Arrays.fill(nan, Double.NaN);
                return nan;
            }
            maxAbs = Math.max(maxAbs, Math.abs(x));
        }
        if (maxAbs == 0) {
            return new double[Math.min(rows, cols)];
        }
        // Work on the matrix scaled by a power of two to a largest entry in [1, 2): exact, and the
        // negligibility tests and the rotations then neither underflow nor overflow at any magnitude.
        int exponent = Math.getExponent(maxAbs);
        double down = Math.scalb(1.0, -exponent);
        double[] t = new double[rows * cols];
        if (rows < cols) {
            // the transpose has the same singular values: a column-major A is a row-major A^T
            for (int j = 0; j < cols; j++) {
                for (int i = 0; i < rows; i++) {
                    t[i * cols + j] = a[j * rows + i] * down;
                }
            }
        } else {
            for (int i = 0; i < t.length; i++) {
                t[i] = a[i] * down;
            }
        }
        double[] sigma = rows < cols ? tall(t, cols, rows) : tall(t, rows, cols);
        for (int i = 0; i < sigma.length; i++) {
            sigma[i] = Math.scalb(sigma[i], exponent);
        }
        return sigma;
    }

    /** {@code m >= n}; {@code a} column-major, overwritten. */
    private static double[] tall(double[] a, int m, int n) {
        double[] s = new double[n];
        double[] e = new double[n];
        double[] work = new double[m];
        int nct = Math.min(m - 1, n);
        int nrt = Math.max(0, Math.min(n - 2, m));
        // Reduce to bidiagonal form: diagonal in s, superdiagonal in e.
        for (int k = 0; k < Math.max(nct, nrt); k++) {
            int ck = k * m;
            if (k < nct) {
                // the reflector that zeroes column k below the diagonal
                double norm = norm(a, ck + k, ck + m);
                if (norm != 0) {
                    if (a[ck + k] < 0) {
                        norm = -norm;
                    }
                    for (int i = k; i < m; i++) {
                        a[ck + i] /= norm;
                    }
                    a[ck + k] += 1;
                }
                s[k] = -norm;
            }
            for (int j = k + 1; j < n; j++) {
                int cj = j * m;
                if (k < nct && s[k] != 0) {
                    double t = 0;
                    for (int i = k; i < m; i++) {
                        t += a[ck + i] * a[cj + i];
                    }
                    t = -t / a[ck + k];
                    for (int i = k; i < m; i++) {
                        a[cj + i] += t * a[ck + i];
                    }
                }
                e[j] = a[cj + k];
            }
            if (k < nrt) {
                // the reflector that zeroes row k right of the superdiagonal
                double norm = norm(e, k + 1, n);
                if (norm != 0) {
                    if (e[k + 1] < 0) {
                        norm = -norm;
                    }
                    for (int i = k + 1; i < n; i++) {
                        e[i] /= norm;
                    }
                    e[k + 1] += 1;
                }
                e[k] = -norm;
                if (k + 1 < m && norm != 0) {
                    java.util.Arrays.fill(work, k + 1, m, 0.0);
                    for (int j = k + 1; j < n; j++) {
                        int cj = j * m;
                        for (int i = k + 1; i < m; i++) {
                            work[i] += e[j] * a[cj + i];
                        }
                    }
                    for (int j = k + 1; j < n; j++) {
                        int cj = j * m;
                        double t = -e[j] / e[k + 1];
                        for (int i = k + 1; i < m; i++) {
                            a[cj + i] += t * work[i];
                        }
                    }
                }
            }
        }
        int p = n;
        if (nct < n) {
            s[nct] = a[nct * m + nct];
        }
        if (nrt + 1 < p) {
            e[nrt] = a[(p - 1) * m + nrt];
        }
        e[p - 1] = 0;
        qrSweeps(s, e, p);
        return Dense.sortDescending(s);
    }

    /** The 2-norm of {@code x[from..to)}: a plain sum of squares unless it over- or underflows. */
    private static double norm(double[] x, int from, int to) {
        double sum = 0;
        for (int i = from; i < to; i++) {
            sum += x[i] * x[i];
        }
        if (sum > Double.MIN_NORMAL && sum < Double.POSITIVE_INFINITY) {
            return Math.sqrt(sum);
        }
        double norm = 0;
        for (int i = from; i < to; i++) {
            norm = SymmetricEigen.hypot(norm, x[i]);
        }
        return norm;
    }

    /** {@code sqrt(x^2 + y^2)}: directly unless the squares over- or underflow. */
    private static double hypot(double x, double y) {
        double h = Math.sqrt(x * x + y * y);
        return h > 0x1p-500 && h < 0x1p500 ? h : SymmetricEigen.hypot(x, y);
    }

    /** Diagonalises the bidiagonal (s, e) of order p in place; s ends non-negative. */
    private static void qrSweeps(double[] s, double[] e, int p) {
        int passes = 0;
        while (p > 0) {
            if (++passes > 100 * s.length) { // a few QR sweeps per value suffice
                throw new IllegalStateException("the bidiagonal SVD did not converge");
            }
            // k: the last negligible superdiagonal entry before p-1 (or -1)
            int k;
            for (k = p - 2; k >= 0; k--) {
                if (Math.abs(e[k]) <= TINY + EPS * (Math.abs(s[k]) + Math.abs(s[k + 1]))) {
                    e[k] = 0;
                    break;
                }
            }
            int kase;
            if (k == p - 2) {
                kase = 4;                    // s[p-1] has converged
            } else {
                int ks;
                for (ks = p - 1; ks > k; ks--) {
                    double t = (ks != p ? Math.abs(e[ks]) : 0) + (ks != k + 1 ? Math.abs(e[ks - 1]) : 0);
                    if (Math.abs(s[ks]) <= TINY + EPS * t) {
                        s[ks] = 0;
                        break;
                    }
                }
                if (ks == k) {
                    kase = 3;                // a QR sweep on the block k+1 .. p-1
                } else if (ks == p - 1) {
                    kase = 1;                // s[p-1] negligible: deflate
                } else {
                    kase = 2;                // s[ks] negligible: split there
                    k = ks;
                }
            }
            k++;
            switch (kase) {
                case 1 -> {
                    double f = e[p - 2];
                    e[p - 2] = 0;
                    for (int j = p - 2; j >= k; j--) {
                        double t = hypot(s[j], f);
                        double cs = s[j] / t;
                        double sn = f / t;
                        s[j] = t;
                        if (j != k) {
                            f = -sn * e[j - 1];
                            e[j - 1] = cs * e[j - 1];
                        }
                    }
                }
                case 2 -> {
                    double f = e[k - 1];
                    e[k - 1] = 0;
                    for (int j = k; j < p; j++) {
                        double t = hypot(s[j], f);
                        double cs = s[j] / t;
                        double sn = f / t;
                        s[j] = t;
                        f = -sn * e[j];
                        e[j] = cs * e[j];
                    }
                }
                case 3 -> {
                    // Wilkinson shift from the trailing 2x2 of B^T B, computed on scaled entries
                    double scale = Math.max(Math.max(Math.max(Math.max(
                            Math.abs(s[p - 1]), Math.abs(s[p - 2])), Math.abs(e[p - 2])), Math.abs(s[k])), Math.abs(e[k]));
                    double sp = s[p - 1] / scale;
                    double spm1 = s[p - 2] / scale;
                    double epm1 = e[p - 2] / scale;
                    double sk = s[k] / scale;
                    double ek = e[k] / scale;
                    double b = ((spm1 + sp) * (spm1 - sp) + epm1 * epm1) / 2.0;
                    double c = (sp * epm1) * (sp * epm1);
                    double shift = 0;
                    if (b != 0 || c != 0) {
                        shift = Math.sqrt(b * b + c);
                        if (b < 0) {
                            shift = -shift;
                        }
                        shift = c / (b + shift);
                    }
                    double f = (sk + sp) * (sk - sp) + shift;
                    double g = sk * ek;
                    for (int j = k; j < p - 1; j++) {
                        double t = hypot(f, g);
                        double inv = 1 / t;
                        double cs = f * inv;
                        double sn = g * inv;
                        if (j != k) {
                            e[j - 1] = t;
                        }
                        f = cs * s[j] + sn * e[j];
                        e[j] = cs * e[j] - sn * s[j];
                        g = sn * s[j + 1];
                        s[j + 1] = cs * s[j + 1];
                        t = hypot(f, g);
                        inv = 1 / t;
                        cs = f * inv;
                        sn = g * inv;
                        s[j] = t;
                        f = cs * e[j] + sn * s[j + 1];
                        s[j + 1] = -sn * e[j] + cs * s[j + 1];
                        g = sn * e[j + 1];
                        e[j + 1] = cs * e[j + 1];
                    }
                    e[p - 2] = f;
                }
                default -> {
                    s[k] = s[k] < 0 ? -s[k] : s[k] == 0 ? 0 : s[k]; // no -0
                    p--;
                }
            }
        }
    }
}
