package dev.headwatch.core.math;

/**
 * Small dense kernels over column-major {@code double[]} arrays: Householder QR, one-sided Jacobi SVD, the
 * blocked products and key centring. Package-private: the public functions of this package are built on them.
 * Every factorisation and product of a head's {@code n x d} or {@code d x d} matrices runs here, in Java: with
 * d at most a few hundred, a native call through ND4J costs more than it saves, in copies and in op dispatch
 * that hands work to other threads (key coherence of {@code 1024 x 64} keys, one QR and one tall product: 12.5
 * and 14.5 ms of process CPU against 28 and 38 ms through ND4J's LAPACK and BLAS, run alternately). Only the
 * {@code n x n} work (logits, {@code A V}, the CAUSAL eigenproblem) goes native.
 */
final class Dense {

    /** Sweeps after which {@link #jacobi} gives up (it converges quadratically: a dozen suffice). */
    static final int JACOBI_SWEEPS = 80;

    /**
     * Whether the products run on the JDK's vector API ({@link VectorProducts}): the JVM was started with
     * {@code --add-modules jdk.incubator.vector} and the system property {@code headwatch.vector} is not
     * {@code false}. Only speed depends on it.
     */
    static final boolean VECTOR = vectorModule();

    private static boolean vectorModule() {
        if (!ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
                || "false".equalsIgnoreCase(System.getProperty("headwatch.vector"))) {
            return false;
        }
        try {
            return VectorProducts.LANES >= 2;
        } catch (LinkageError e) {                      // a JVM whose module does not link: plain Java
            return false;
        }
    }

    private Dense() {
    }

    /** Copies a row-major {@code rows x cols} block starting at row {@code from} into column-major order. */
    static double[] toColumnMajor(double[] rowMajor, int from, int rows, int cols) {
        return transpose(rowMajor, from * cols, rows, cols, new double[rows * cols]);
    }

    /**
     * The transpose of the row-major {@code rows x cols} matrix starting at {@code a[from]}: row-major
     * {@code cols x rows}, into the first {@code rows x cols} entries of out; returns out.
     */
    static double[] transpose(double[] a, int from, int rows, int cols, double[] out) {
        int i = 0;
        // four rows at a time: each column of them lands in four adjacent entries (about twice as fast)
        for (; i + 3 < rows; i += 4) {
            int r = from + i * cols;
            for (int j = 0, o = i; j < cols; j++, o += rows) {
                out[o] = a[r + j];
                out[o + 1] = a[r + cols + j];
                out[o + 2] = a[r + 2 * cols + j];
                out[o + 3] = a[r + 3 * cols + j];
            }
        }
        for (; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                out[j * rows + i] = a[from + i * cols + j];
            }
        }
        return out;
    }

    /** Rows {@code from .. from+m-1} of a row-major {@code [*, d]} matrix centred over them: row-major {@code m x d}. */
    static double[] centred(double[] rowMajor, int from, int m, int d) {
        return centred(rowMajor, from, m, d, columnMeans(rowMajor, from, m, d), new double[m * d]);
    }

    /** As above, about the given column means, into the first {@code m x d} entries of kc; returns kc. */
    static double[] centred(double[] rowMajor, int from, int m, int d, double[] mean, double[] kc) {
        for (int i = 0; i < m; i++) {
            for (int c = 0; c < d; c++) {
                kc[i * d + c] = rowMajor[(from + i) * d + c] - mean[c];
            }
        }
        return kc;
    }

    /**
     * Drops the all-ones direction of centred keys exactly: for the row-major {@code m x d} Kc ({@link #centred})
     * and the Householder reflector {@code H} that maps {@code 1/sqrt(m)} to {@code e_1},
     * {@code Kc^T Kc = K'^T K'} where {@code K'} is {@code H Kc} without its first row (which is
     * {@code 1^T Kc / sqrt(m) = 0}). The result {@code K'} ({@code (m-1) x d}, column-major) has rank at most
     * {@code m-1} by construction, so the null direction of centred keys never shows up as a rounding-level
     * singular value; equal keys give exact zeros.
     */
    static double[] reduced(double[] kc, int m, int d) {
        return reduced(kc, m, d, 0, new double[Math.max(m - 1, 0) * d]);
    }

    /**
     * As {@link #reduced(double[], int, int)}, followed by {@code extra} columns of ones (for
     * {@link #qrR(double[], int, int, int)} to carry along), into the first {@code (m-1) x (d + extra)} entries
     * of out; returns out.
     */
    static double[] reduced(double[] kc, int m, int d, int extra, double[] out) {
        java.util.Arrays.fill(out, Math.max(m - 1, 0) * d, Math.max(m - 1, 0) * (d + extra), 1.0);
        if (m <= 1) {
            return out;
        }
        // w = u - e1 with u = 1/sqrt(m); H = I - 2 w w^T / |w|^2.
        double u = 1.0 / Math.sqrt(m);
        double w0 = u - 1.0;
        double norm2 = w0 * w0 + (m - 1) * u * u;
        for (int c = 0; c < d; c++) {
            double dot = 0;
            for (int i = 0; i < m; i++) {
                dot += (i == 0 ? w0 : u) * kc[i * d + c];
            }
            double f = 2.0 * dot / norm2 * u;
            int base = c * (m - 1);
            for (int i = 1; i < m; i++) {
                out[base + i - 1] = kc[i * d + c] - f;
            }
        }
        return out;
    }

    /**
     * The {@code R} factor of a thin Householder QR of a column-major {@code rows x cols} matrix, as a
     * column-major {@code min(rows, cols) x cols} upper-trapezoidal matrix. The input is overwritten, and is
     * itself the result when {@code rows <= cols}.
     */
    static double[] qrR(double[] a, int rows, int cols) {
        householder(a, rows, cols, 0, null, false);
        return upperR(a, rows, cols);
    }

    /**
     * As {@link #qrR} for the first {@code cols} columns of a column-major {@code rows x (cols + extra)} matrix,
     * {@code rows > cols}, with every reflector applied to the {@code extra} columns after them too: they end
     * as {@code Q^T} times themselves (full Q), and R is the same as without them.
     */
    static double[] qrR(double[] a, int rows, int cols, int extra) {
        if (rows <= cols) {
            throw new IllegalArgumentException("extra columns need rows > cols, not " + rows + " x " + cols);
        }
        householder(a, rows, cols, extra, null, false);
        return upperR(a, rows, cols);
    }

    /**
     * As {@link #qrR}, with column pivoting: {@code A P = Q T}, each step taking the remaining column of
     * largest norm (below the rows already reduced), so the trailing block of T is small when A is close to
     * rank-deficient. {@code perm} (length cols) receives the column order: column k of T comes from column
     * {@code perm[k]} of A. The input is overwritten, and is itself the result when {@code rows <= cols}.
     */
    static double[] pivotedQrR(double[] a, int rows, int cols, int[] perm) {
        for (int j = 0; j < cols; j++) {
            perm[j] = j;
        }
        householder(a, rows, cols, 0, perm, false);
        return upperR(a, rows, cols);
    }

    /**
     * A thin Householder QR of a column-major {@code rows x cols} matrix ({@code p = min(rows, cols)}), Q kept
     * as its reflectors: {@code R} as {@link #qrR} gives it, and {@link #timesQ} applies the
     * {@code rows x p} thin Q to a vector without forming Q, which costs {@code O(rows p)} per vector instead
     * of {@code O(rows p^2)} for Q itself.
     */
    static final class Qr {
        final double[] r;
        private final double[][] reflectors;
        private final int rows;
        private final int p;

        Qr(double[] a0, int rows, int cols) {
            double[] a = a0.clone();
            this.rows = rows;
            this.p = Math.min(rows, cols);
            this.reflectors = householder(a, rows, cols, 0, null, true);
            this.r = upperR(a, rows, cols);
        }

        /**
         * {@code Q X} for a column-major {@code p x count} matrix X: the reflectors applied last to first, to
         * four columns at a time (each column gets the same arithmetic as on its own).
         */
        double[] timesQ(double[] x, int count) {
            double[] y = new double[rows * count];
            for (int j = 0; j < count; j++) {
                System.arraycopy(x, j * p, y, j * rows, p);
            }
            for (int k = p - 1; k >= 0; k--) {
                if (reflectors[k] != null) {
                    reflectAll(reflectors[k], y, 0, count, k, rows);
                }
            }
            return y;
        }
    }

    /**
     * Householder reflections that make the column-major {@code rows x cols} matrix upper-trapezoidal in
     * place, each reflector applied to the {@code extra} columns after them as well; returns the reflectors
     * (scaled by sqrt(2)/|v|; null where a column needed none). With a
     * {@code perm} (the identity on entry), each step first swaps in the remaining column of largest norm
     * below row k and records the swap in {@code perm}. Without {@code keep}, one buffer serves every
     * reflector and null is returned.
     */
    private static double[][] householder(double[] a, int rows, int cols, int extra, int[] perm, boolean keep) {
        int p = Math.min(rows, cols);
        double[][] vs = keep ? new double[p][] : null;
        double[] buffer = keep ? null : new double[rows];
        for (int k = 0; k < p; k++) {
            int ck = k * rows;
            if (perm != null) {
                int best = k;
                double bestNorm2 = -1;
                for (int j = k; j < cols; j++) {
                    double n2 = partialNorm2(a, j * rows, k, rows);
                    if (n2 > bestNorm2) {
                        best = j;
                        bestNorm2 = n2;
                    }
                }
                if (best != k) {
                    for (int i = 0, cb = best * rows; i < rows; i++) {
                        double t = a[ck + i];
                        a[ck + i] = a[cb + i];
                        a[cb + i] = t;
                    }
                    int pk = perm[k];
                    perm[k] = perm[best];
                    perm[best] = pk;
                }
            }
            double norm2 = partialNorm2(a, ck, k, rows);
            double norm = Math.sqrt(norm2);
            if (norm == 0) {
                continue;
            }
            double alpha = a[ck + k] > 0 ? -norm : norm;
            double[] v = keep ? new double[rows] : buffer;
            for (int i = k; i < rows; i++) {
                v[i] = a[ck + i];
            }
            v[k] -= alpha;
            double vnorm2 = partialNorm2(v, 0, k, rows);
            if (vnorm2 == 0) {
                continue;
            }
            double scale = Math.sqrt(2.0 / vnorm2);
            for (int i = k; i < rows; i++) {
                v[i] *= scale;
            }
            if (keep) {
                vs[k] = v;
            }
            reflectAll(v, a, k, cols + extra, k, rows);
        }
        return vs;
    }

    /** {@code sum_{i >= k} x_i^2} over the column starting at {@code x[offset]}. */
    private static double partialNorm2(double[] x, int offset, int k, int rows) {
        double s = 0;
        for (int i = k; i < rows; i++) {
            s += x[offset + i] * x[offset + i];
        }
        return s;
    }

    /**
     * Applies {@code I - v v^T} (rows k.. only) to the columns {@code from .. to-1} of the column-major
     * {@code rows x *} x, four at a time: one accumulator per column, each summing in the same order as
     * {@link #reflect} (so the same numbers), four independent chains of additions instead of one.
     */
    private static void reflectAll(double[] v, double[] x, int from, int to, int k, int rows) {
        int j = from;
        for (; j + 3 < to; j += 4) {
            int o0 = j * rows, o1 = o0 + rows, o2 = o1 + rows, o3 = o2 + rows;
            double d0 = 0, d1 = 0, d2 = 0, d3 = 0;
            for (int i = k; i < rows; i++) {
                double vi = v[i];
                d0 += vi * x[o0 + i];
                d1 += vi * x[o1 + i];
                d2 += vi * x[o2 + i];
                d3 += vi * x[o3 + i];
            }
            for (int i = k; i < rows; i++) {
                double vi = v[i];
                x[o0 + i] -= d0 * vi;
                x[o1 + i] -= d1 * vi;
                x[o2 + i] -= d2 * vi;
                x[o3 + i] -= d3 * vi;
            }
        }
        for (; j < to; j++) {
            reflect(v, x, j * rows, k, rows);
        }
    }

    /**
     * The upper-trapezoidal {@code min(rows, cols) x cols} part of a reduced column-major matrix: when
     * {@code rows <= cols} the same layout, so the entries below the diagonal are cleared in place.
     */
    private static double[] upperR(double[] a, int rows, int cols) {
        if (rows <= cols) {
            for (int j = 0; j < rows; j++) {
                java.util.Arrays.fill(a, j * rows + j + 1, (j + 1) * rows, 0.0);
            }
            return a;
        }
        int p = cols;
        double[] r = new double[p * cols];
        for (int j = 0; j < cols; j++) {
            System.arraycopy(a, j * rows, r, j * p, j + 1);
        }
        return r;
    }

    /** Applies {@code I - v v^T} (v already scaled by sqrt(2)/|v|) to one column of x, rows k.. only. */
    private static void reflect(double[] v, double[] x, int offset, int k, int rows) {
        double dot = 0;
        for (int i = k; i < rows; i++) {
            dot += v[i] * x[offset + i];
        }
        for (int i = k; i < rows; i++) {
            x[offset + i] -= dot * v[i];
        }
    }

    /**
     * {@code A B} for row-major {@code A (rows x inner)} and {@code B (inner x cols)}, row-major result, in
     * Java. Each entry sums its terms in order of
     * {@code inner}.
     */
    static double[] multiply(double[] a, int rows, int inner, double[] b, int cols) {
        return product(a, 0, rows, inner, b, 0, cols, false, false);
    }

    /**
     * {@code A B} as above for A's rows starting at {@code a[aFrom]}, written into {@code out} from
     * {@code out[outFrom]} on; returns out.
     */
    static double[] multiply(double[] a, int aFrom, int rows, int inner, double[] b, int cols, double[] out,
                             int outFrom) {
        return product(a, aFrom, rows, inner, b, 0, cols, false, false, out, outFrom);
    }

    /**
     * {@code A B^T} for row-major {@code A (rows x inner)} and {@code B (cols x inner)}, row-major
     * {@code rows x cols}; each entry sums its terms in order of {@code inner}.
     */
    static double[] multiplyByTranspose(double[] a, int rows, int inner, double[] b, int cols) {
        return product(a, 0, rows, inner, b, 0, cols, true, false);
    }

    /** As above, with B's rows starting at {@code b[bFrom]}. */
    static double[] multiplyByTranspose(double[] a, int rows, int inner, double[] b, int bFrom, int cols) {
        return product(a, 0, rows, inner, b, bFrom, cols, true, false);
    }

    /** As above, written into {@code out} from {@code out[outFrom]} on; returns out. */
    static double[] multiplyByTranspose(double[] a, int rows, int inner, double[] b, int bFrom, int cols,
                                        double[] out, int outFrom) {
        return product(a, 0, rows, inner, b, bFrom, cols, true, false, out, outFrom);
    }

    /**
     * The lower triangle (row-major {@code rows x rows}; entries above it may be filled too) of {@code W W^T}
     * for the row-major {@code rows x cols} W starting at {@code w[from]}. On {@link VectorProducts} when
     * {@link #VECTOR}: the whole square, about twice the work of the triangle yet faster in SIMD registers, and
     * each entry of the triangle the same sum. Into the first {@code rows x rows} entries of out (others above the
     * diagonal may stay as they were); returns out.
     */
    static double[] rowGramLower(double[] w, int from, int rows, int cols, double[] out) {
        return product(w, from, rows, cols, w, from, rows, true, !VECTOR, out, 0);
    }

    /**
     * The products above in blocks of 4 x 4 entries: sixteen independent sums in registers, eight loads per
     * sixteen multiply-adds. Loops this short (inner and cols of 16 or 32) are left scalar by the JIT's
     * vectoriser, so register blocking is what makes them fast, about twice the speed of dot products.
     * A starts at {@code a[aFrom]}; with {@code lower}, only the blocks on and below the diagonal.
     */
    private static double[] product(double[] a, int aFrom, int rows, int inner, double[] b, int bFrom, int cols,
                                    boolean transposed, boolean lower) {
        return product(a, aFrom, rows, inner, b, bFrom, cols, transposed, lower, new double[rows * cols], 0);
    }

    /**
     * As above, into {@code c} from {@code c[cFrom]} on (with {@code lower}, the blocks above stay as they were):
     * on {@link VectorProducts} when {@link #VECTOR}, the same bits either way.
     */
    private static double[] product(double[] a, int aFrom, int rows, int inner, double[] b, int bFrom, int cols,
                                    boolean transposed, boolean lower, double[] c, int cFrom) {
        if (VECTOR && !lower && cols >= VectorProducts.LANES) {
            return VectorProducts.product(a, aFrom, rows, inner, b, bFrom, cols, transposed, c, cFrom);
        }
        return scalarProduct(a, aFrom, rows, inner, b, bFrom, cols, transposed, lower, c, cFrom);
    }

    /** {@link #product} in plain Java. */
    static double[] scalarProduct(double[] a, int aFrom, int rows, int inner, double[] b, int bFrom, int cols,
                                  boolean transposed, boolean lower, double[] c, int cFrom) {
        // B[k][j] is b[k * kStride + j * jStride]
        int kStride = transposed ? 1 : cols;
        int jStride = transposed ? inner : 1;
        int i = 0;
        for (; i + 3 < rows; i += 4) {
            int a0 = aFrom + i * inner;
            int a1 = a0 + inner;
            int a2 = a1 + inner;
            int a3 = a2 + inner;
            int j = 0;
            for (; j + 3 < cols && (!lower || j <= i); j += 4) {
                int b0 = bFrom + j * jStride;
                int b1 = b0 + jStride;
                int b2 = b1 + jStride;
                int b3 = b2 + jStride;
                double c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
                double c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
                for (int k = 0, bk = 0; k < inner; k++, bk += kStride) {
                    double x0 = a[a0 + k], x1 = a[a1 + k], x2 = a[a2 + k], x3 = a[a3 + k];
                    double y0 = b[b0 + bk], y1 = b[b1 + bk], y2 = b[b2 + bk], y3 = b[b3 + bk];
                    c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
                    c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
                    c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
                    c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
                }
                int o = cFrom + i * cols + j;
                c[o] = c00; c[o + 1] = c01; c[o + 2] = c02; c[o + 3] = c03;
                o += cols;
                c[o] = c10; c[o + 1] = c11; c[o + 2] = c12; c[o + 3] = c13;
                o += cols;
                c[o] = c20; c[o + 1] = c21; c[o + 2] = c22; c[o + 3] = c23;
                o += cols;
                c[o] = c30; c[o + 1] = c31; c[o + 2] = c32; c[o + 3] = c33;
            }
            for (int r = i; r < i + 4; r++) {
                for (int jj = j; jj < (lower ? Math.min(cols, r + 1) : cols); jj++) {
                    c[cFrom + r * cols + jj] = entry(a, aFrom + r * inner, inner, b, bFrom + jj * jStride, kStride);
                }
            }
        }
        for (; i < rows; i++) {
            for (int j = 0; j < (lower ? Math.min(cols, i + 1) : cols); j++) {
                c[cFrom + i * cols + j] = entry(a, aFrom + i * inner, inner, b, bFrom + j * jStride, kStride);
            }
        }
        return c;
    }

    /** The entry of {@code A B} of A's row starting at {@code a[a0]} and B's column (or, transposed, row) at {@code b[b0]}. */
    static double entry(double[] a, int a0, int inner, double[] b, int b0, int kStride) {
        double sum = 0;
        for (int k = 0; k < inner; k++) {
            sum += a[a0 + k] * b[b0 + k * kStride];
        }
        return sum;
    }

    /**
     * The lower triangle ({@code g[a * cols + b]}, {@code b <= a}) of {@code X^T X} for rows
     * {@code from .. from+rows-1} of a row-major {@code [*, cols]} X, each entry summed in order of rows. The
     * upper triangle is left 0. In blocks of 4 x 4 entries, as {@link #product}: sixteen sums in registers
     * over the rows, where one rank-one update per row would load and store every entry once per row.
     */
    static double[] columnGram(double[] x, int from, int rows, int cols) {
        return blockedColumnGram(x, from, rows, cols, new double[cols * cols]);
    }

    /**
     * As above, into the first {@code cols x cols} entries of g (the upper triangle left as it was, or filled
     * too: on {@link VectorProducts} when {@link #VECTOR}, {@code X^T X} in full from a copy of {@code X^T} in
     * scratch, each entry the same sum in order of rows); returns g.
     */
    static double[] columnGram(double[] x, int from, int rows, int cols, double[] g) {
        if (VECTOR && cols >= VectorProducts.LANES) {
            double[] xt = transpose(x, from * cols, rows, cols, scratch(TRANSPOSED, rows * cols));
            return VectorProducts.product(xt, 0, cols, rows, x, from * cols, cols, false, g, 0);
        }
        return blockedColumnGram(x, from, rows, cols, g);
    }

    /** {@link #columnGram} in plain Java: the lower triangle only. */
    private static double[] blockedColumnGram(double[] x, int from, int rows, int cols, double[] g) {
        int a = 0;
        for (; a + 3 < cols; a += 4) {
            for (int b = 0; b <= a; b += 4) {
                double g00 = 0, g01 = 0, g02 = 0, g03 = 0, g10 = 0, g11 = 0, g12 = 0, g13 = 0;
                double g20 = 0, g21 = 0, g22 = 0, g23 = 0, g30 = 0, g31 = 0, g32 = 0, g33 = 0;
                for (int i = from; i < from + rows; i++) {
                    int row = i * cols;
                    double x0 = x[row + a], x1 = x[row + a + 1], x2 = x[row + a + 2], x3 = x[row + a + 3];
                    double y0 = x[row + b], y1 = x[row + b + 1], y2 = x[row + b + 2], y3 = x[row + b + 3];
                    g00 += x0 * y0; g01 += x0 * y1; g02 += x0 * y2; g03 += x0 * y3;
                    g10 += x1 * y0; g11 += x1 * y1; g12 += x1 * y2; g13 += x1 * y3;
                    g20 += x2 * y0; g21 += x2 * y1; g22 += x2 * y2; g23 += x2 * y3;
                    g30 += x3 * y0; g31 += x3 * y1; g32 += x3 * y2; g33 += x3 * y3;
                }
                boolean below = b < a;                   // else a diagonal block: its lower half only
                int o = a * cols + b;
                g[o] = g00;
                if (below) {
                    g[o + 1] = g01; g[o + 2] = g02; g[o + 3] = g03;
                }
                o += cols;
                g[o] = g10; g[o + 1] = g11;
                if (below) {
                    g[o + 2] = g12; g[o + 3] = g13;
                }
                o += cols;
                g[o] = g20; g[o + 1] = g21; g[o + 2] = g22;
                if (below) {
                    g[o + 3] = g23;
                }
                o += cols;
                g[o] = g30; g[o + 1] = g31; g[o + 2] = g32; g[o + 3] = g33;
            }
        }
        for (; a < cols; a++) {                          // the rows of g past the last whole block
            for (int b = 0; b <= a; b++) {
                double sum = 0;
                for (int i = from; i < from + rows; i++) {
                    sum += x[i * cols + a] * x[i * cols + b];
                }
                g[a * cols + b] = sum;
            }
        }
        return g;
    }

    /**
     * The lower factor of the Cholesky factorisation {@code G = L L^T} of a symmetric {@code n x n} matrix
     * given by its lower triangle (row-major, overwritten with L; the upper triangle is not read), or false
     * when a pivot is not positive and finite (G not numerically positive definite).
     */
    static boolean cholesky(double[] g, int n) {
        double[] sums = scratch(SUMS, 4);                 // fourDots' results
        for (int j = 0; j < n; j++) {
            int rj = j * n;
            double pivot = g[rj + j] - dot(g, rj, g, rj, j);
            if (!(pivot > 0) || pivot == Double.POSITIVE_INFINITY) {
                return false;
            }
            double ljj = Math.sqrt(pivot);
            g[rj + j] = ljj;
            int i = j + 1;
            for (; i + 3 < n; i += 4) {                  // four rows at a time, loading row j once
                fourDots(g, i * n, n, g, rj, j, sums);
                for (int x = 0; x < 4; x++) {
                    int at = (i + x) * n + j;
                    g[at] = (g[at] - sums[x]) / ljj;
                }
            }
            for (; i < n; i++) {
                int ri = i * n;
                g[ri + j] = (g[ri + j] - dot(g, ri, g, rj, j)) / ljj;
            }
        }
        return true;
    }

    /**
     * The lower triangle (row-major {@code p x p}) of {@code B G B^T} for a symmetric {@code n x n} G given by
     * its lower triangle (row-major) and a row-major {@code p x n} B whose row i is zero before column
     * {@code i * shift} ({@code shift} 1 for upper-trapezoidal B, 0 for a full one).
     */
    static double[] congruence(double[] b, int p, double[] gLower, int n, int shift) {
        return congruence(b, p, false, gLower, n, shift);
    }

    /** As above, with B column-major when {@code columnMajor} (the same numbers either way). */
    static double[] congruence(double[] b, int p, boolean columnMajor, double[] gLower, int n, int shift) {
        return congruence(b, p, columnMajor, gLower, n, shift, new double[p * p]);
    }

    /**
     * As above, written into the first {@code p x p} entries of {@code out} (upper triangle cleared), which may
     * be {@code gLower} itself ({@code p <= n}): G is read in full before out is written. Returns out.
     *
     * <p>At the sizes of a head ({@code p, n} of 16 to 64) loop overhead and strided reads cost more than the
     * flops, so G is first mirrored into a full square and B copied row-major (scratch of the calling thread),
     * and both products keep several sums in registers: each entry of {@code T = B G} sums its terms in order of
     * a, skipping B's zeros, and each entry of {@code T B^T} is {@link #dot}'s four partial sums, four rows of T
     * at a time. The same operations in the same order as one entry at a time, so the same bits.
     */
    static double[] congruence(double[] b, int p, boolean columnMajor, double[] gLower, int n, int shift,
                               double[] out) {
        int rowStride = columnMajor ? 1 : n;             // B[i][a] is b[i * rowStride + a * colStride]
        int colStride = columnMajor ? p : 1;
        double[] g = scratch(MIRROR, n * n);             // G, both triangles
        double[] t = scratch(PRODUCT, p * n);            // T = B G, row-major p x n
        double[] rows = scratch(ROWS, p * n);            // B, row-major p x n
        double[] sums = scratch(SUMS, 4);                 // fourDots' results
        for (int a = 0; a < n; a++) {
            int ga = a * n;
            for (int c = 0; c <= a; c++) {
                double v = gLower[ga + c];
                g[ga + c] = v;
                g[c * n + a] = v;
            }
        }
        for (int i = 0; i < p; i++) {
            int ri = i * n;
            for (int a = i * shift; a < n; a++) {
                rows[ri + a] = b[i * rowStride + a * colStride];
            }
        }
        if (finite(g, n * n)) {
            // B's zeros then add only zeros to sums that start at +0 and so cannot be -0: skipping them or not
            // gives the same bits, and the blocked product is faster than a skip test per term.
            for (int i = 0; i < p; i++) {
                java.util.Arrays.fill(rows, i * n, i * n + i * shift, 0.0);
            }
            product(rows, 0, p, n, g, 0, n, false, false, t, 0);
        } else {
            timesSkippingZeros(rows, p, g, n, shift, t);
        }
        for (int j = 0; j < p; j++) {
            int from = j * shift;
            int len = n - from;
            int rj = j * n + from;
            int i = j;
            for (; i + 3 < p; i += 4) {
                fourDots(t, i * n + from, n, rows, rj, len, sums);
                for (int x = 0; x < 4; x++) {
                    out[(i + x) * p + j] = sums[x];
                }
            }
            for (; i < p; i++) {
                out[i * p + j] = dot(t, i * n + from, rows, rj, len);
            }
        }
        for (int i = 0; i < p; i++) {
            java.util.Arrays.fill(out, i * p + i + 1, (i + 1) * p, 0.0);
        }
        return out;
    }

    /** {@code T = B G} for {@link #congruence}, each entry summed in order of a, B's zeros skipped. */
    private static void timesSkippingZeros(double[] rows, int p, double[] g, int n, int shift, double[] t) {
        for (int i = 0; i < p; i++) {
            int ri = i * n;
            int from = i * shift;
            int c = 0;
            for (; c + 3 < n; c += 4) {
                double t0 = 0, t1 = 0, t2 = 0, t3 = 0;
                for (int a = from; a < n; a++) {
                    double bia = rows[ri + a];
                    if (bia == 0) {
                        continue;
                    }
                    int ga = a * n + c;
                    t0 += bia * g[ga];
                    t1 += bia * g[ga + 1];
                    t2 += bia * g[ga + 2];
                    t3 += bia * g[ga + 3];
                }
                t[ri + c] = t0;
                t[ri + c + 1] = t1;
                t[ri + c + 2] = t2;
                t[ri + c + 3] = t3;
            }
            for (; c < n; c++) {
                double sum = 0;
                for (int a = from; a < n; a++) {
                    double bia = rows[ri + a];
                    if (bia != 0) {
                        sum += bia * g[a * n + c];
                    }
                }
                t[ri + c] = sum;
            }
        }
    }

    /**
     * {@link #dot} of four rows of x ({@code stride} apart, the first at {@code x[x0]}) with the vector at
     * {@code y[y0]}, {@code len} entries each, into {@code sums[0..3]}: each dot's own four partial sums (the
     * same bits), with y loaded once for the four.
     */
    private static void fourDots(double[] x, int x0, int stride, double[] y, int y0, int len, double[] sums) {
        int r0 = x0, r1 = r0 + stride, r2 = r1 + stride, r3 = r2 + stride;
        double s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
        double s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
        int k = 0;
        for (; k + 3 < len; k += 4) {
            double y0k = y[y0 + k], y1 = y[y0 + k + 1], y2 = y[y0 + k + 2], y3 = y[y0 + k + 3];
            s00 += x[r0 + k] * y0k; s01 += x[r0 + k + 1] * y1; s02 += x[r0 + k + 2] * y2; s03 += x[r0 + k + 3] * y3;
            s10 += x[r1 + k] * y0k; s11 += x[r1 + k + 1] * y1; s12 += x[r1 + k + 2] * y2; s13 += x[r1 + k + 3] * y3;
            s20 += x[r2 + k] * y0k; s21 += x[r2 + k + 1] * y1; s22 += x[r2 + k + 2] * y2; s23 += x[r2 + k + 3] * y3;
            s30 += x[r3 + k] * y0k; s31 += x[r3 + k + 1] * y1; s32 += x[r3 + k + 2] * y2; s33 += x[r3 + k + 3] * y3;
        }
        for (; k < len; k++) {
            double yk = y[y0 + k];
            s00 += x[r0 + k] * yk;
            s10 += x[r1 + k] * yk;
            s20 += x[r2 + k] * yk;
            s30 += x[r3 + k] * yk;
        }
        sums[0] = (s00 + s01) + (s02 + s03);
        sums[1] = (s10 + s11) + (s12 + s13);
        sums[2] = (s20 + s21) + (s22 + s23);
        sums[3] = (s30 + s31) + (s32 + s33);
    }

    /** Whether the first {@code len} entries are all finite. */
    private static boolean finite(double[] x, int len) {
        for (int i = 0; i < len; i++) {
            if (x[i] - x[i] != 0) {     // NaN exactly when x[i] is not finite
                return false;
            }
        }
        return true;
    }

    /** Scratch slots of {@link #congruence}. */
    private static final int MIRROR = 0, PRODUCT = 1, ROWS = 2;
    /** Scratch slots of the callers of {@link #congruence}: the Gram matrices it reads, written over by its result. */
    static final int GRAM = 3, GRAM_KEYS = 4;
    /** Scratch slots of {@link SymmetricEigen}. */
    static final int EIGEN_DIAGONAL = 5, EIGEN_BESIDE = 6, EIGEN_VECTOR = 7;
    /** Scratch slot of {@link #columnGram}. */
    private static final int TRANSPOSED = 8;
    /** Scratch slot of {@link #fourDots}' results, in {@link #congruence} and {@link #cholesky}. */
    private static final int SUMS = 9;
    /** Scratch slots of {@link EnergyField}'s Java logits: the keys transposed, four rows of scaled queries. */
    static final int LOGIT_KEYS = 10, LOGIT_QUERIES = 11;
    /** Scratch slots of {@link LinearGap}: means, centred values, blocks of rows, {@code m C^T}. */
    static final int GAP_VALUE_MEANS = 12, GAP_KEY_MEANS = 13, GAP_VALUES = 14, GAP_WORK = 15, GAP_CT = 16,
            GAP_LINEAR = 17;
    /** Scratch slots of {@link KeyIncoherence}: {@code T11^-1}, the subspace iteration's arrays, the basis, rows of {@code Kc B}. */
    static final int KEY_INVERSE = 18, KEY_Z = 19, KEY_TZ = 20, KEY_B = 21, KEY_BASIS = 22, KEY_ROWS = 23,
            KEY_FIRST = 24;
    /** Scratch slot of {@link CentredKeys}: the reduced keys its QR factors (R is copied out of them). */
    static final int REDUCED_KEYS = 25;
    /** Scratch slot of {@link VectorProducts}' {@code A B^T}: B transposed. */
    static final int PRODUCT_B_TRANSPOSED = 26;
    private static final int SLOTS = 27;

    /**
     * Work arrays of the calling thread, one per slot, grown to the largest size seen: the per-observation
     * kernels on {@code d x d} matrices would otherwise allocate a few kilobytes each. Contents are left from the
     * last use; nothing that holds one escapes its method.
     */
    private static final ThreadLocal<double[][]> SCRATCH = ThreadLocal.withInitial(() -> new double[SLOTS][0]);

    /** The calling thread's work array of the slot, at least {@code length} long (its contents are garbage). */
    static double[] scratch(int slot, int length) {
        double[][] slots = SCRATCH.get();
        if (slots[slot].length < length) {
            slots[slot] = new double[length];
        }
        return slots[slot];
    }

    /** The means over rows {@code from .. from+rows-1} of each column of a row-major {@code [*, cols]} matrix. */
    static double[] columnMeans(double[] x, int from, int rows, int cols) {
        return columnMeans(x, from, rows, cols, new double[cols]);
    }

    /** As above, into the first {@code cols} entries of mean (whatever they held); returns mean. */
    static double[] columnMeans(double[] x, int from, int rows, int cols, double[] mean) {
        java.util.Arrays.fill(mean, 0, cols, 0.0);
        for (int i = from; i < from + rows; i++) {
            for (int c = 0; c < cols; c++) {
                mean[c] += x[i * cols + c];
            }
        }
        for (int c = 0; c < cols; c++) {
            mean[c] /= rows;
        }
        return mean;
    }

    /** Rounds every entry to float32 precision, in place; returns {@code x}. */
    static double[] roundToFloat(double[] x) {
        return roundToFloat(x, x.length);
    }

    /** Rounds the first {@code length} entries to float32 precision, in place; returns {@code x}. */
    static double[] roundToFloat(double[] x, int length) {
        for (int i = 0; i < length; i++) {
            x[i] = (float) x[i];
        }
        return x;
    }

    /** {@code A B^T} for column-major {@code A (ra x c)} and {@code B (rb x c)}; column-major {@code ra x rb}. */
    static double[] multiplyTransposed(double[] a, int ra, double[] b, int rb, int c) {
        double[] out = new double[ra * rb];
        for (int k = 0; k < c; k++) {
            for (int j = 0; j < rb; j++) {
                double bjk = b[k * rb + j];
                if (bjk == 0) {
                    continue;
                }
                int oj = j * ra;
                int ak = k * ra;
                for (int i = 0; i < ra; i++) {
                    out[oj + i] += a[ak + i] * bjk;
                }
            }
        }
        return out;
    }

    /**
     * One-sided (Hestenes) Jacobi SVD of a column-major {@code rows x cols} matrix, overwritten with
     * {@code U Sigma}. Returns the column norms (the singular values, unsorted) and, when {@code v} is not
     * null, accumulates the right singular vectors into it (column-major {@code cols x cols}, must start as
     * the identity). Jacobi resolves small singular values to high relative accuracy, unlike the square
     * roots of Gram eigenvalues. All NaN when the matrix holds NaN or infinity.
     *
     * @throws IllegalStateException when {@value #JACOBI_SWEEPS} sweeps leave a pair of columns not orthogonal
     */
    static double[] jacobi(double[] a, int rows, int cols, double[] v) {
        for (double x : a) {
            if (!Double.isFinite(x)) {
                double[] nan = new double[cols];
                java.util.Arrays.fill(nan, Double.NaN);
                return nan;
            }
        }
        // Each column in its own array: a rotation then reads and writes the same index of two arrays, which
        // the JIT vectorises (not so two offsets into one array); the arithmetic is the same.
        double[][] ac = columns(a, rows, cols);
        double[][] vc = v == null ? null : columns(v, cols, cols);
        double tol = 1e-15;
        double[] norm2 = new double[cols];
        boolean converged = false;
        for (int sweep = 0; sweep < JACOBI_SWEEPS && !converged; sweep++) {
            // squared column norms, refreshed every sweep and updated exactly by each rotation in between
            double negligible = 0;
            for (int j = 0; j < cols; j++) {
                double[] col = ac[j];
                double s = 0;
                for (int i = 0; i < rows; i++) {
                    s += col[i] * col[i];
                }
                norm2[j] = s;
                negligible += s;
            }
            // a column below rounding level of |A|_F has no direction left to orthogonalise (columns
            // beyond the rank end there): rotating it would go on forever without changing anything
            negligible *= 0x1p-104;
            boolean rotated = false;
            for (int p = 0; p < cols - 1; p++) {
                double[] ap = ac[p];
                for (int q = p + 1; q < cols; q++) {
                    double[] aq = ac[q];
                    double alpha = norm2[p], beta = norm2[q];
                    double gamma = dot(ap, 0, aq, 0, rows);
                    if (gamma == 0 || Math.abs(gamma) <= tol * Math.sqrt(alpha * beta)
                            || Math.min(alpha, beta) <= negligible) {
                        continue;
                    }
                    rotated = true;
                    double zeta = (beta - alpha) / (2 * gamma);
                    double t = (zeta >= 0 ? 1.0 : -1.0) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
                    double c = 1 / Math.sqrt(1 + t * t);
                    double s = c * t;
                    rotate(ap, aq, c, s, rows);
                    norm2[p] = Math.max(0, alpha - t * gamma);
                    norm2[q] = beta + t * gamma;
                    if (vc != null) {
                        rotate(vc[p], vc[q], c, s, cols);
                    }
                }
            }
            converged = !rotated;
        }
        if (!converged) {
            throw new IllegalStateException("one-sided Jacobi did not converge in " + JACOBI_SWEEPS + " sweeps");
        }
        double[] sigma = new double[cols];
        for (int j = 0; j < cols; j++) {
            double[] col = ac[j];
            double s = 0;
            for (int i = 0; i < rows; i++) {
                s += col[i] * col[i];
            }
            sigma[j] = Math.sqrt(s);
            System.arraycopy(col, 0, a, j * rows, rows);
            if (vc != null) {
                System.arraycopy(vc[j], 0, v, j * cols, cols);
            }
        }
        return sigma;
    }

    /**
     * The singular values of a column-major {@code rows x cols} matrix (length {@code cols}, zeros past
     * {@code min(rows, cols)}) and the matching right singular vectors, written into {@code v} as columns
     * (column-major {@code cols x cols}; only those of nonzero singular values are guaranteed), by one-sided
     * {@link #jacobi}. The argument is not modified.
     *
     * @throws IllegalStateException when Jacobi does not converge
     */
    static double[] svd(double[] a, int rows, int cols, double[] v) {
        if (rows > cols) {
            System.arraycopy(identity(cols), 0, v, 0, cols * cols);
            return jacobi(a.clone(), rows, cols, v);
        }
        // Jacobi on the rows of A (rows <= cols, as the R factor of a thin QR): one-sided Jacobi on
        // A^T = V S U^T turns its columns into V S, so the right singular vectors of A come out of the rotated
        // columns without accumulating rotations, and the rows of an R factor make Jacobi converge in fewer
        // sweeps than its columns do. Columns of v whose singular value is 0 are 0.
        double[] t = new double[cols * rows];
        for (int i = 0; i < rows; i++) {
            for (int c = 0; c < cols; c++) {
                t[i * cols + c] = a[c * rows + i];
            }
        }
        double[] sigma = jacobi(t, cols, rows, null);
        java.util.Arrays.fill(v, 0, cols * cols, 0.0);
        for (int i = 0; i < rows; i++) {
            if (sigma[i] > 0) {
                for (int c = 0; c < cols; c++) {
                    v[i * cols + c] = t[i * cols + c] / sigma[i];
                }
            }
        }
        return java.util.Arrays.copyOf(sigma, cols);
    }

    /** The columns of a column-major {@code rows x cols} matrix, each copied into its own array. */
    private static double[][] columns(double[] a, int rows, int cols) {
        double[][] out = new double[cols][];
        for (int j = 0; j < cols; j++) {
            out[j] = java.util.Arrays.copyOfRange(a, j * rows, (j + 1) * rows);
        }
        return out;
    }

    /** {@code (x, y) <- (c x - s y, s x + c y)} elementwise over the first n entries. */
    private static void rotate(double[] x, double[] y, double c, double s, int n) {
        for (int i = 0; i < n; i++) {
            double xi = x[i], yi = y[i];
            x[i] = c * xi - s * yi;
            y[i] = s * xi + c * yi;
        }
    }

    /** {@code x[xo..xo+len) . y[yo..yo+len)} with four partial sums (instruction-level parallelism). */
    static double dot(double[] x, int xo, double[] y, int yo, int len) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 3 < len; i += 4) {
            s0 += x[xo + i] * y[yo + i];
            s1 += x[xo + i + 1] * y[yo + i + 1];
            s2 += x[xo + i + 2] * y[yo + i + 2];
            s3 += x[xo + i + 3] * y[yo + i + 3];
        }
        for (; i < len; i++) {
            s0 += x[xo + i] * y[yo + i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    static double[] identity(int n) {
        double[] v = new double[n * n];
        for (int i = 0; i < n; i++) {
            v[i * n + i] = 1;
        }
        return v;
    }

    /** Indices of {@code values} in descending order of value (stable: lower index first on ties). */
    static int[] descendingOrder(double[] values) {
        Integer[] idx = new Integer[values.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        java.util.Arrays.sort(idx, (x, y) -> Double.compare(values[y], values[x]));
        int[] out = new int[idx.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = idx[i];
        }
        return out;
    }

    /** Sorts in place, descending. */
    static double[] sortDescending(double[] x) {
        java.util.Arrays.sort(x);
        for (int i = 0, j = x.length - 1; i < j; i++, j--) {
            double t = x[i];
            x[i] = x[j];
            x[j] = t;
        }
        return x;
    }
}
