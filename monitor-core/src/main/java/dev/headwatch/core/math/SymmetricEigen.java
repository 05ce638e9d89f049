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
        double[] d = new double[n];
        double[] e = new double[n];
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
                    for (int j = 0; j <= l; j++) {
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
                    for (int j = 0; j <= l; j++) {
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
        ql(d, e, n);
        return d;
    }

    /** Relative width of the interval in which {@link #largest} proves its largest eigenvalue. */
    static final double CERTIFIED = 1e-13;
    /** Outer steps of {@link #largest}'s inverse iteration before it runs the full solve instead. */
    private static final int STEPS = 4;

    /**
     * The largest eigenvalue of the symmetric positive semidefinite {@code n x n} matrix whose lower triangle
     * is given (row-major, not modified), warm-started from {@code x}, an estimate of its eigenvector (length n,
     * all zero for none), which is replaced by the estimate for the next call. From x, a few steps of inverse
     * iteration shifted just above the Rayleigh quotient theta; theta is returned once a Cholesky factorisation
     * of {@code theta (1 + CERTIFIED) I - A} proves that no eigenvalue lies above that value, so that the
     * largest is in {@code [theta, theta (1 + CERTIFIED)]} (up to the rounding of the factorisation,
     * {@code O(n eps) |A|}). Weights move little from one observation to the next, so the last vector usually
     * proves the next value in one or two factorisations of {@code n^3 / 6}; otherwise (no estimate, no proof
     * in a few steps, a matrix that is not positive definite) the value comes from the full solve
     * ({@link #eigenvalues}) and x from inverse iteration at it.
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
        double[] y = new double[n];
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
            // some eigenvalue is within the residual of theta: shifted by that much, the factorisation proves
            // the largest lies below, and inverse iteration converges to it
            double proof = CERTIFIED * theta;
            double shift = Math.max(Math.sqrt(residual2), proof);
            if (!(theta > 0) || !shiftedFactor(a, n, theta + shift, f)) {
                return Double.NaN;
            }
            if (shift == proof) {
                return theta;
            }
            solve(f, n, x);
            solve(f, n, x);
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
