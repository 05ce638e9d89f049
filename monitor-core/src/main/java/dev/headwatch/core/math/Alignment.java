package dev.headwatch.core.math;

/**
 * Signal alignment and head specialisation (METRICS.md "Specialisation and signal alignment").
 *
 * <ul>
 *   <li>{@code alignment(u, xi) = |<u, xi>| / (|u| |xi|)} in {@code [0, 1]}: recovery of a signal direction
 *       up to sign; NaN when either vector is zero.</li>
 *   <li>For subspaces, the cosines of the principal angles: the singular values of
 *       {@code B_u^T B_xi} with orthonormal bases {@code B} of the two spans.</li>
 *   <li>{@code kappa[h][f] = alignment(u_h, f_f)}; head h is specialised on feature f when f is its best
 *       feature and {@code kappa[h][f] >= 0.5}; heads specialised on the same feature are redundant.</li>
 * </ul>
 *
 * <p>References: "Asymptotic Signal Subspace Recovery in Softmax Attention Models", arXiv:2606.22406;
 * "Specialization of softmax attention heads", arXiv:2603.03993; A. Bjorck and G. Golub, "Numerical
 * methods for computing angles between linear subspaces", Math. Comp. 27 (1973).
 */
public final class Alignment {

    /** The default {@code kappa} above which a head counts as specialised on its best feature. */
    public static final double SPECIALISED = 0.5;

    private Alignment() {
    }

    /** {@code |<u, xi>| / (|u| |xi|)} in {@code [0, 1]}; NaN when either is zero. */
    public static double alignment(double[] u, double[] xi) {
        if (u.length != xi.length) {
            throw new IllegalArgumentException("vectors differ in length: " + u.length + " and " + xi.length);
        }
        double ux = 0, uu = 0, xx = 0;
        for (int i = 0; i < u.length; i++) {
            ux += u[i] * xi[i];
            uu += u[i] * u[i];
            xx += xi[i] * xi[i];
        }
        if (uu == 0 || xx == 0) {
            return Double.NaN;
        }
        return Math.min(1.0, Math.abs(ux) / Math.sqrt(uu * xx));
    }

    /**
     * Cosines of the principal angles between {@code span(a)} and {@code span(b)}, descending, in
     * {@code [0, 1]}; as many as the smaller of the two spans' dimensions (linearly dependent or zero
     * vectors are dropped by a rank-revealing SVD). Empty when either span is {@code {0}}.
     *
     * @param a vectors spanning the first subspace (each of length dim)
     * @param b vectors spanning the second subspace (each of length dim)
     */
    public static double[] principalCosines(double[][] a, double[][] b) {
        int dim = a.length > 0 ? a[0].length : b.length > 0 ? b[0].length : 0;
        double[][] ba = orthonormalBasis(a, dim);
        double[][] bb = orthonormalBasis(b, dim);
        if (ba.length == 0 || bb.length == 0) {
            return new double[0];
        }
        double[] m = new double[ba.length * bb.length];
        for (int i = 0; i < ba.length; i++) {
            for (int j = 0; j < bb.length; j++) {
                m[j * ba.length + i] = dot(ba[i], bb[j]);
            }
        }
        double[] sigma = Dense.jacobi(m, ba.length, bb.length, null);
        Dense.sortDescending(sigma);
        double[] out = java.util.Arrays.copyOf(sigma, Math.min(ba.length, bb.length));
        for (int i = 0; i < out.length; i++) {
            out[i] = Math.min(1.0, out[i]);
        }
        return out;
    }

    /** {@code kappa[h][f] = alignment(heads[h], features[f])}. */
    public static double[][] kappa(double[][] heads, double[][] features) {
        double[][] k = new double[heads.length][features.length];
        for (int h = 0; h < heads.length; h++) {
            for (int f = 0; f < features.length; f++) {
                k[h][f] = alignment(heads[h], features[f]);
            }
        }
        return k;
    }

    /**
     * The feature each head is specialised on: its best feature (the lowest index on ties) when
     * {@code kappa >= threshold}, else -1 (unspecialised; also for a row of NaN).
     */
    public static int[] specialisation(double[][] kappa, double threshold) {
        int[] out = new int[kappa.length];
        for (int h = 0; h < kappa.length; h++) {
            int best = -1;
            for (int f = 0; f < kappa[h].length; f++) {
                if (!Double.isNaN(kappa[h][f]) && (best < 0 || kappa[h][f] > kappa[h][best])) {
                    best = f;
                }
            }
            out[h] = best >= 0 && kappa[h][best] >= threshold ? best : -1;
        }
        return out;
    }

    /** Whether each head shares its (non-negative) specialisation with another head. */
    public static boolean[] redundant(int[] specialisation) {
        boolean[] out = new boolean[specialisation.length];
        for (int h = 0; h < specialisation.length; h++) {
            for (int g = 0; g < specialisation.length; g++) {
                if (g != h && specialisation[h] >= 0 && specialisation[g] == specialisation[h]) {
                    out[h] = true;
                    break;
                }
            }
        }
        return out;
    }

    private static double[][] orthonormalBasis(double[][] vectors, int dim) {
        int k = vectors.length;
        if (k == 0 || dim == 0) {
            return new double[0][];
        }
        double[] m = new double[dim * k];
        for (int j = 0; j < k; j++) {
            if (vectors[j].length != dim) {
                throw new IllegalArgumentException("vectors differ in length: " + dim + " and " + vectors[j].length);
            }
            System.arraycopy(vectors[j], 0, m, j * dim, dim);
        }
        double[] sigma = Dense.jacobi(m, dim, k, null);
        double max = 0;
        for (double s : sigma) {
            max = Math.max(max, s);
        }
        double tol = max * Math.max(dim, k) * 0x1p-52;
        java.util.List<double[]> basis = new java.util.ArrayList<>();
        for (int j = 0; j < k; j++) {
            if (sigma[j] > tol) {
                double[] col = new double[dim];
                for (int i = 0; i < dim; i++) {
                    col[i] = m[j * dim + i] / sigma[j];
                }
                basis.add(col);
            }
        }
        return basis.toArray(new double[0][]);
    }

    private static double dot(double[] x, double[] y) {
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            s += x[i] * y[i];
        }
        return s;
    }
}
