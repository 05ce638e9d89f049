package dev.headwatch.dl4j;

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

    /** The values of any array in C order (one copy, which also detaches views and workspace arrays). */
    static double[] flat(INDArray a) {
        return a.dup('c').data().asDouble();
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
        int n = a.length;
        int k = b.length;
        int m = k == 0 ? 0 : b[0].length;
        double[][] out = new double[n][m];
        for (int i = 0; i < n; i++) {
            double[] oi = out[i];
            double[] ai = a[i];
            for (int l = 0; l < k; l++) {
                double x = ai[l];
                if (x != 0) {
                    double[] bl = b[l];
                    for (int j = 0; j < m; j++) {
                        oi[j] += x * bl[j];
                    }
                }
            }
        }
        return out;
    }

    /** {@code a b^T}. */
    static double[][] mulT(double[][] a, double[][] b) {
        int n = a.length;
        int m = b.length;
        double[][] out = new double[n][m];
        for (int i = 0; i < n; i++) {
            double[] ai = a[i];
            double[] oi = out[i];
            int j = 0;
            // Four dot products at once: independent sums keep the FPU busy, and each one still adds its
            // terms in order, so the result is the same to the last bit as one product at a time.
            for (; j + 3 < m; j += 4) {
                double[] b0 = b[j];
                double[] b1 = b[j + 1];
                double[] b2 = b[j + 2];
                double[] b3 = b[j + 3];
                double s0 = 0;
                double s1 = 0;
                double s2 = 0;
                double s3 = 0;
                for (int l = 0; l < ai.length; l++) {
                    double x = ai[l];
                    s0 += x * b0[l];
                    s1 += x * b1[l];
                    s2 += x * b2[l];
                    s3 += x * b3[l];
                }
                oi[j] = s0;
                oi[j + 1] = s1;
                oi[j + 2] = s2;
                oi[j + 3] = s3;
            }
            for (; j < m; j++) {
                double s = 0;
                double[] bj = b[j];
                for (int l = 0; l < ai.length; l++) {
                    s += ai[l] * bj[l];
                }
                oi[j] = s;
            }
        }
        return out;
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

    /** An ND4J matrix of the given type holding {@code a}. */
    static INDArray nd(double[][] a, DataType type) {
        int r = a.length;
        int c = a[0].length;
        if (type == DataType.DOUBLE) {
            double[] flat = new double[r * c];
            for (int i = 0; i < r; i++) {
                System.arraycopy(a[i], 0, flat, i * c, c);
            }
            return Nd4j.create(flat, new long[]{r, c}, DataType.DOUBLE);
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
        int dv = v[0].length;
        double[][] out = new double[q.length][dv];
        for (int i = 0; i < q.length; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < k.length; j++) {
                if (sees(visible, keyVisible, i, j)) {
                    s[i][j] *= scale;
                    max = Math.max(max, s[i][j]);
                }
            }
            if (max == Double.NEGATIVE_INFINITY) {
                continue;
            }
            double sum = 0;
            for (int j = 0; j < k.length; j++) {
                double p = sees(visible, keyVisible, i, j) ? Math.exp(s[i][j] - max) : 0;
                s[i][j] = p;
                sum += p;
            }
            for (int j = 0; j < k.length; j++) {
                double p = s[i][j] / sum;
                if (p != 0) {
                    double[] vj = v[j];
                    for (int c = 0; c < dv; c++) {
                        out[i][c] += p * vj[c];
                    }
                }
            }
        }
        return out;
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
