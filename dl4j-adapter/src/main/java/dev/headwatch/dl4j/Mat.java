package dev.headwatch.dl4j;

import dev.headwatch.core.math.RowMajor;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Small dense row-major matrices as {@code double[rows][cols]}, and their transfer to and from ND4J.
 * The extraction works on one sampled sequence at a time (a few thousand numbers), where plain loops cost
 * microseconds while each native ND4J op costs a dispatch (milliseconds on a loaded machine), so the
 * arrays are copied out once and the arithmetic stays in Java.
 */
final class Mat {

    private Mat() {
    }

    /** The values of a rank-2 array as {@code [rows][cols]} (one copy; views are read in place). */
    static double[][] of(INDArray a) {
        if (a.rank() != 2) {
            throw new IllegalArgumentException("expected a matrix but got shape " + java.util.Arrays.toString(a.shape()));
        }
        int r = (int) a.size(0);
        int c = (int) a.size(1);
        double[] flat = flat(a);
        double[][] m = new double[r][c];
        for (int i = 0; i < r; i++) {
            System.arraycopy(flat, i * c, m[i], 0, c);
        }
        return m;
    }

    /**
     * The values of any array in C order (one copy, which also detaches views and workspace arrays), read on
     * the Java side: no native op from the monitor's thread.
     */
    static double[] flat(INDArray a) {
        return RowMajor.of(a);
    }

    /** The transpose. */
    static double[][] t(double[][] a) {
        int r = a.length;
        int c = r == 0 ? 0 : a[0].length;
        double[][] out = new double[c][r];
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < c; j++) {
                out[j][i] = a[i][j];
            }
        }
        return out;
    }

    /** {@code a b}. */
    static double[][] mul(double[][] a, double[][] b) {
        return mulT(a, t(b));
    }

    /**
     * {@code a b^T}, in blocks of 4 x 4 entries: sixteen independent sums in registers, eight loads per sixteen
     * multiply-adds. Each entry still adds its terms in order, so the result is the same to the last bit as
     * one dot product at a time.
     */
    static double[][] mulT(double[][] a, double[][] b) {
        int n = a.length;
        int m = b.length;
        double[][] out = new double[n][m];
        int i = 0;
        for (; i + 3 < n; i += 4) {
            double[] a0 = a[i], a1 = a[i + 1], a2 = a[i + 2], a3 = a[i + 3];
            int j = 0;
            for (; j + 3 < m; j += 4) {
                double[] b0 = b[j], b1 = b[j + 1], b2 = b[j + 2], b3 = b[j + 3];
                double c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
                double c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
                for (int l = 0; l < a0.length; l++) {
                    double x0 = a0[l], x1 = a1[l], x2 = a2[l], x3 = a3[l];
                    double y0 = b0[l], y1 = b1[l], y2 = b2[l], y3 = b3[l];
                    c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
                    c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
                    c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
                    c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
                }
                store(out[i], j, c00, c01, c02, c03);
                store(out[i + 1], j, c10, c11, c12, c13);
                store(out[i + 2], j, c20, c21, c22, c23);
                store(out[i + 3], j, c30, c31, c32, c33);
            }
            for (int r = i; r < i + 4; r++) {
                for (int jj = j; jj < m; jj++) {
                    out[r][jj] = dot(a[r], b[jj]);
                }
            }
        }
        for (; i < n; i++) {
            for (int j = 0; j < m; j++) {
                out[i][j] = dot(a[i], b[j]);
            }
        }
        return out;
    }

    private static void store(double[] row, int j, double x0, double x1, double x2, double x3) {
        row[j] = x0;
        row[j + 1] = x1;
        row[j + 2] = x2;
        row[j + 3] = x3;
    }

    private static double dot(double[] x, double[] y) {
        double s = 0;
        for (int l = 0; l < x.length; l++) {
            s += x[l] * y[l];
        }
        return s;
    }

    /** Columns {@code from .. from+count-1}. */
    static double[][] cols(double[][] a, int from, int count) {
        double[][] out = new double[a.length][count];
        for (int i = 0; i < a.length; i++) {
            System.arraycopy(a[i], from, out[i], 0, count);
        }
        return out;
    }

    /** The listed rows. */
    static double[][] rows(double[][] a, int[] keep) {
        double[][] out = new double[keep.length][];
        for (int i = 0; i < keep.length; i++) {
            out[i] = a[keep[i]].clone();
        }
        return out;
    }

    /** Side-by-side concatenation. */
    static double[][] hcat(double[][][] parts) {
        int n = parts[0].length;
        int c = 0;
        for (double[][] p : parts) {
            c += p[0].length;
        }
        double[][] out = new double[n][c];
        for (int i = 0; i < n; i++) {
            int at = 0;
            for (double[][] p : parts) {
                System.arraycopy(p[i], 0, out[i], at, p[i].length);
                at += p[i].length;
            }
        }
        return out;
    }

    /** Rows {@code from .. from+count-1}, flattened row-major. */
    static double[] flatRows(double[][] a, int from, int count) {
        int cols = a[from].length;
        double[] out = new double[count * cols];
        for (int i = 0; i < count; i++) {
            System.arraycopy(a[from + i], 0, out, i * cols, cols);
        }
        return out;
    }

    /** An ND4J matrix of the given type holding {@code a}. */
    static INDArray nd(double[][] a, DataType type) {
        int r = a.length;
        int c = a[0].length;
        if (type == DataType.DOUBLE) {
            return Nd4j.create(flatRows(a, 0, r), new long[]{r, c}, DataType.DOUBLE);
        }
        float[] flat = new float[r * c];
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < c; j++) {
                flat[i * c + j] = (float) a[i][j];
            }
        }
        return Nd4j.create(flat, new long[]{r, c}, 'c');
    }

    /**
     * Softmax attention {@code softmax(tau q k^T) v}: {@code [Tq, dv]}. Row i attends to the keys j with
     * {@code visible[i][j]}, or with {@code keyVisible[j]} when {@code visible} is null; a row that sees no
     * key is all zeros.
     */
    static double[][] attend(double[][] q, double[][] k, double[][] v, double scale, boolean[] keyVisible,
                             boolean[][] visible) {
        double[][] s = mulT(q, k);
        for (int i = 0; i < q.length; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < k.length; j++) {
                if (sees(visible, keyVisible, i, j)) {
                    s[i][j] *= scale;
                    max = Math.max(max, s[i][j]);
                }
            }
            if (max == Double.NEGATIVE_INFINITY) {
                java.util.Arrays.fill(s[i], 0.0);   // sees no key
                continue;
            }
            double sum = 0;
            for (int j = 0; j < k.length; j++) {
                double p = sees(visible, keyVisible, i, j) ? Math.exp(s[i][j] - max) : 0;
                s[i][j] = p;
                sum += p;
            }
            for (int j = 0; j < k.length; j++) {
                s[i][j] /= sum;
            }
        }
        return mul(s, v);   // A V in register blocks
    }

    private static boolean sees(boolean[][] visible, boolean[] keyVisible, int i, int j) {
        return visible != null ? visible[i][j] : keyVisible == null || keyVisible[j];
    }

    /** {@code sum |a_i - b_i|^2} and {@code sum |a_i|^2} over the rows with {@code keep[i]} (all when null). */
    static double[] errorAndNorm(double[][] actual, double[][] rebuilt, boolean[] keep) {
        double e = 0;
        double n = 0;
        for (int i = 0; i < actual.length; i++) {
            if (keep == null || keep[i]) {
                for (int j = 0; j < actual[i].length; j++) {
                    double d = actual[i][j] - rebuilt[i][j];
                    e += d * d;
                    n += actual[i][j] * actual[i][j];
                }
            }
        }
        return new double[]{e, n};
    }
}
