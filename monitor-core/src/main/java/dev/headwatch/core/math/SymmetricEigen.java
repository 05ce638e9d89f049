package dev.headwatch.core.math;

/**
 * Eigenvalues of a small symmetric matrix in Java: Householder reduction to tridiagonal form, then the
 * implicit QL iteration with Wilkinson shifts (the EISPACK {@code tred1}/{@code tql1} pair, as in Numerical
 * Recipes' {@code tred2}/{@code tqli} without eigenvectors; {@code 4/3 n^3} operations, backward stable like
 * LAPACK's {@code syev}). Live monitoring of small causal heads uses it so that the background thread
 * makes no native call while training runs its own.
 */
final class SymmetricEigen {

    private SymmetricEigen() {
    }

    /**
     * The eigenvalues (unsorted) of the symmetric {@code n x n} matrix whose lower triangle
     * ({@code a[i * n + k]}, {@code k <= i}) is given row-major; the upper triangle is not read. The array is
     * overwritten.
     *
     * @throws IllegalStateException when the QL iteration meets a non-finite value (NaN in the input, or overflow)
     *                               or does not converge
     */
    static double[] eigenvalues(double[] a, int n) {
        return eigenvalues(a, n, new double[n]);
    }

    /** As above, into the first n entries of d (returned; at least n long). */
    static double[] eigenvalues(double[] a, int n, double[] d) {
        double[] e = Dense.scratch(Dense.EIGEN_BESIDE, n);
        tridiagonal(a, n, d, e);
        ql(d, e, n);
        return d;
    }

    /**
     * The Householder reduction of {@link #eigenvalues}: the diagonal into d and the entries beside it into e
     * ({@code e[i]} between {@code i - 1} and i; {@code e[0]} is scratch), a overwritten.
     */
    static void tridiagonal(double[] a, int n, double[] d, double[] e) {
        for (int i = n - 1; i > 0; i--) {
            int l = i - 1;
            double h = 0;
            if (l > 0) {
                double scale = 0;
                for (int k = 0; k <= l; k++) {
                    scale += Math.abs(a[i * n + k]);
                }
                if (scale == 0) {
                    e[i] = a[i * n + l];
                } else {
                    for (int k = 0; k <= l; k++) {
                        a[i * n + k] /= scale;
                        h += a[i * n + k] * a[i * n + k];
                    }
                    double f = a[i * n + l];
                    double g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
                    e[i] = scale * g;
                    h -= f * g;
                    a[i * n + l] = f - g;
                    f = 0;
                    int j = 0;
                    // four rows of (A u)_j at a time: independent sums whose add latencies overlap, each in
                    // order of k as one at a time (row j up to the diagonal, column j below it)
                    for (; j + 3 <= l; j += 4) {
                        int ri = i * n, r0 = j * n, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n;
                        double g0 = 0, g1 = 0, g2 = 0, g3 = 0;
                        for (int k = 0; k <= j; k++) {
                            double x = a[ri + k];
                            g0 += a[r0 + k] * x;
                            g1 += a[r1 + k] * x;
                            g2 += a[r2 + k] * x;
                            g3 += a[r3 + k] * x;
                        }
                        double x1 = a[ri + j + 1], x2 = a[ri + j + 2], x3 = a[ri + j + 3];
                        g0 += a[r1 + j] * x1;
                        g1 += a[r1 + j + 1] * x1;
                        g2 += a[r2 + j + 1] * x1;
                        g3 += a[r3 + j + 1] * x1;
                        g0 += a[r2 + j] * x2;
                        g1 += a[r2 + j + 1] * x2;
                        g2 += a[r2 + j + 2] * x2;
                        g3 += a[r3 + j + 2] * x2;
                        g0 += a[r3 + j] * x3;
                        g1 += a[r3 + j + 1] * x3;
                        g2 += a[r3 + j + 2] * x3;
                        g3 += a[r3 + j + 3] * x3;
                        for (int k = j + 4; k <= l; k++) {
                            double x = a[ri + k];
                            int rk = k * n + j;
                            g0 += a[rk] * x;
                            g1 += a[rk + 1] * x;
                            g2 += a[rk + 2] * x;
                            g3 += a[rk + 3] * x;
                        }
                        e[j] = g0 / h;
                        f += e[j] * a[ri + j];
                        e[j + 1] = g1 / h;
                        f += e[j + 1] * a[ri + j + 1];
                        e[j + 2] = g2 / h;
                        f += e[j + 2] * a[ri + j + 2];
                        e[j + 3] = g3 / h;
                        f += e[j + 3] * a[ri + j + 3];
                    }
                    for (; j <= l; j++) {
                        g = 0;
                        for (int k = 0; k <= j; k++) {
                            g += a[j * n + k] * a[i * n + k];
                        }
                        for (int k = j + 1; k <= l; k++) {
                            g += a[k * n + j] * a[i * n + k];
                        }
                        e[j] = g / h;
                        f += e[j] * a[i * n + j];
                    }
                    double hh = f / (h + h);
                    for (j = 0; j <= l; j++) {
                        f = a[i * n + j];
                        g = e[j] - hh * f;
                        e[j] = g;
                        for (int k = 0; k <= j; k++) {
                            a[j * n + k] -= f * e[k] + g * a[i * n + k];
                        }
                    }
                }
            } else {
                e[i] = a[i * n + l];
            }
        }
        for (int i = 0; i < n; i++) {
            d[i] = a[i * n + i];
        }
    }

    /** Relative width of the interval in which {@link #largest} proves its largest eigenvalue. */
    static final double CERTIFIED = 1e-13;
    /** Outer steps of {@link #largest}'s inverse iteration before it runs the full solve instead. */
    private static final int STEPS = 4;
    /**
     * Solves per factorisation in {@link #largest}'s inverse iteration: a solve costs {@code n^2}, a factorisation
     * {@code n^3 / 6}, so four solves (against two) save a factorisation on most observations of a walk.
     */
    private static final int SOLVES = 4;

    /**
     * The largest eigenvalue of the symmetric positive semidefinite {@code n x n} matrix whose lower triangle
     * is given (row-major, not modified), warm-started from {@code x}, an estimate of its eigenvector (length n,
     * all zero for none), which is replaced by the estimate for the next call. From x, a few steps of inverse
     * iteration shifted just above the Rayleigh quotient theta; theta is returned once a Cholesky factorisation
     * of {@code theta (1 + CERTIFIED) I - A} proves that no eigenvalue lies above that value, so that the
     * largest is in {@code [theta, theta (1 + CERTIFIED)]} (up to the rounding of the factorisation,
     * {@code O(n eps) |A|}), tried as soon as the residual says theta may be that close (theta, a Rayleigh
     * quotient, never lies above the largest). Weights move little from one observation to the next, so the last
     * vector usually proves the next value in two factorisations of {@code n^3 / 6}, one step and the proof;
     * otherwise (no estimate, no proof in a few steps, a matrix that is not positive definite) the value comes
     * from the full solve ({@link #eigenvalues}) and x from inverse iteration at it.
     *
     * @throws IllegalStateException as {@link #eigenvalues}, when the full solve does not converge
     */
    static double largest(double[] a, int n, double[] x) {
        return largest(a, n, x, new double[n * n]);
    }

    /** As above, with {@code room} (at least {@code n x n}, overwritten) for the factorisations. */
    static double largest(double[] a, int n, double[] x, double[] room) {
        double lambda = proven(a, n, x, room);
        if (!Double.isNaN(lambda)) {
            return lambda;
        }
        lambda = 0;
        for (double value : eigenvalues(a.clone(), n)) {
            lambda = Math.max(lambda, value);
        }
        // The next call's estimate: inverse iteration from a generic vector, shifted just above lambda.
        for (int i = 0; i < n; i++) {
            x[i] = 1 + i / (double) n;
        }
        if (lambda > 0 && shiftedFactor(a, n, lambda * (1 + 1e-10), room)) {
            solve(room, n, x);
            solve(room, n, x);
        } else {
            java.util.Arrays.fill(x, 0);
        }
        return lambda;
    }

    /**
     * {@link #largest}'s proof from the estimate x, or NaN when it fails within {@link #STEPS} steps; f (at
     * least {@code n x n}) holds the factorisations.
     */
    static double proven(double[] a, int n, double[] x, double[] f) {
        double[] y = Dense.scratch(Dense.EIGEN_VECTOR, n);
        for (int step = 0; step < STEPS; step++) {
            double norm = Math.sqrt(Dense.dot(x, 0, x, 0, n));
            if (!(norm > 0) || Double.isInfinite(norm)) {
                return Double.NaN;
            }
            for (int i = 0; i < n; i++) {
                x[i] /= norm;
            }
            times(a, n, x, y);
            double theta = Dense.dot(x, 0, y, 0, n);
            double residual2 = 0;
            for (int i = 0; i < n; i++) {
                residual2 += (y[i] - theta * x[i]) * (y[i] - theta * x[i]);
            }
            if (!(theta > 0)) {
                return Double.NaN;
            }
            // theta is within residual^2 / gap of the eigenvalue nearest x: once that is likely under the proof's
            // width (for a gap of theta / 16 or more), the proof itself is tried
            double proof = CERTIFIED * theta;
            double residual = Math.sqrt(residual2);
            if (residual2 <= proof * theta / 16 && shiftedFactor(a, n, theta + proof, f)) {
                return theta;
            }
            // some eigenvalue is within the residual of theta: shifted by that much, the factorisation proves
            // the largest lies below, and inverse iteration converges to it
            if (residual <= proof || !shiftedFactor(a, n, theta + residual, f)) {
                return Double.NaN;
            }
            for (int k = 0; k < SOLVES; k++) {
                solve(f, n, x);
            }
        }
        return Double.NaN;
    }

    /** {@code y = A x} for the symmetric A given by its lower triangle. */
    private static void times(double[] a, int n, double[] x, double[] y) {
        java.util.Arrays.fill(y, 0);
        for (int i = 0; i < n; i++) {
            int ri = i * n;
            double sum = 0;
            for (int j = 0; j < i; j++) {
                sum += a[ri + j] * x[j];
                y[j] += a[ri + j] * x[i];
            }
            y[i] += sum + a[ri + i] * x[i];
        }
    }

    /** The Cholesky factor of {@code sigma I - A} into f, or false when it is not positive definite. */
    private static boolean shiftedFactor(double[] a, int n, double sigma, double[] f) {
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < i; j++) {
                f[i * n + j] = -a[i * n + j];
            }
            f[i * n + i] = sigma - a[i * n + i];
        }
        return Dense.cholesky(f, n);
    }

    /** {@code x = (L L^T)^-1 x} for the lower factor L in f. */
    private static void solve(double[] f, int n, double[] x) {
        for (int i = 0; i < n; i++) {
            x[i] = (x[i] - Dense.dot(f, i * n, x, 0, i)) / f[i * n + i];
        }
        for (int i = n - 1; i >= 0; i--) {
            double sum = x[i];
            for (int j = i + 1; j < n; j++) {
                sum -= f[j * n + i] * x[j];
            }
            x[i] = sum / f[i * n + i];
        }
    }

    /** Implicit QL with shifts on the tridiagonal (d diagonal, e[i] the entry between i - 1 and i). */
    private static void ql(double[] d, double[] e, int n) {
        for (int i = 1; i < n; i++) {
            e[i - 1] = e[i];
        }
        if (n > 0) {
            e[n - 1] = 0;
        }
        double eps = Math.ulp(1.0);
        for (int l = 0; l < n; l++) {
            int iterations = 0;
            int m;
            do {
                for (m = l; m < n - 1; m++) {
                    double dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
                    if (Math.abs(e[m]) <= eps * dd) {
                        break;
                    }
                }
                if (m != l) {
                    if (!Double.isFinite(d[l] + e[l])) {
                        throw new IllegalStateException("tridiagonal QL iteration met a non-finite value (NaN or "
                                + "overflow in the input)");
                    }
                    if (iterations++ == 60) {
                        throw new IllegalStateException("tridiagonal QL iteration did not converge");
                    }
                    double g = (d[l + 1] - d[l]) / (2 * e[l]);
                    double r = fastHypot(g, 1);
                    g = d[m] - d[l] + e[l] / (g + Math.copySign(r, g));
                    double s = 1, c = 1, p = 0;
                    int i;
                    for (i = m - 1; i >= l; i--) {
                        double f = s * e[i];
                        double b = c * e[i];
                        r = fastHypot(f, g);
                        e[i + 1] = r;
                        if (r == 0) {
                            d[i + 1] -= p;
                            e[m] = 0;
                            break;
                        }
                        double inv = 1 / r;
                        s = f * inv;
                        c = g * inv;
                        g = d[i + 1] - p;
                        r = (d[i] - g) * s + 2 * c * b;
                        p = s * r;
                        d[i + 1] = g + p;
                        g = c * r - b;
                    }
                    if (r == 0 && i >= l) {
                        continue;
                    }
                    d[l] -= p;
                    e[l] = g;
                    e[m] = 0;
                }
            } while (m != l);
        }
    }

    /**
     * {@code sqrt(x^2 + y^2)}: directly (one square root, no division) unless the squares over- or
     * underflow, the common case in the QL sweeps, where this is most of the cost.
     */
    static double fastHypot(double x, double y) {
        double h = Math.sqrt(x * x + y * y);
        return h > 0x1p-500 && h < 0x1p500 ? h : hypot(x, y);
    }

    /** {@code sqrt(x^2 + y^2)} without overflow; {@link Math#hypot} is several times slower. */
    static double hypot(double x, double y) {
        double a = Math.abs(x);
        double b = Math.abs(y);
        if (a < b) {
            double t = a;
            a = b;
            b = t;
        }
        if (a == 0 || Double.isInfinite(a)) {
            return a;
        }
        double t = b / a;
        return a * Math.sqrt(1 + t * t);
    }
}
