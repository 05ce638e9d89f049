package dev.headwatch.core.math;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Distance of softmax attention from its large-prompt linear limit (METRICS.md item 11).
 *
 * <p>With {@code vbar}, {@code kbar} the means over the m visible keys and
 * {@code C = (1/m) sum_j (v_j - vbar)(k_j - kbar)^T}, the linear predictor is
 * {@code o_lin_i = vbar + C (tau q_i)} (exact for Gaussian tokens as the prompt grows, by exponential
 * tilting), and with {@code o_i = sum_j A_ij v_j}:
 * {@code linearGap = sum_i |o_i - o_lin_i|^2 / sum_i |o_i - vbar|^2}, {@code >= 0}; near 0 the head acts
 * as linear attention, near 1 or above it does not. NaN when every {@code o_i = vbar} (constant values).
 * Defined for FULL (and PADDED, on the visible block) only; the queries may be fewer or more than the keys
 * (cross-attention).
 *
 * <p>References: "Softmax as Linear Attention in the Large-Prompt Regime", arXiv:2512.11784.
 */
public final class LinearGap {

    private LinearGap() {
    }

    /**
     * The linear gap of a FULL head with n queries over m keys ({@link #measure} without the attention output).
     *
     * @see #measure
     */
    public static double gap(double[] a, double[] q, int n, double[] k, double[] v, int m, int d, int dv, double tau,
                             boolean single) {
        return measure(a, q, n, k, v, m, d, dv, tau, single).gap();
    }

    /**
     * The linear gap and the attention output {@code A V} formed on the way.
     *
     * @param gap      the linear gap
     * @param attended {@code A V}, row-major {@code n x dv}: {@code A (V - vbar) + vbar}, the product rounded to
     *                 float32 when single (so within float32 rounding of {@code A V}, not the float64 product)
     */
    public record Result(double gap, double[] attended) {
    }

    /**
     * The linear gap of a FULL head with n queries over m keys, and its attention output.
     *
     * @param a      attention, row-major {@code n x m} (rows sum to 1)
     * @param q      queries, row-major {@code n x d}
     * @param k      keys, row-major {@code m x d}
     * @param v      values, row-major {@code m x dv}
     * @param tau    the logit scale
     * @param single whether to form {@code A V} in float32 (as a float32 model does) rather than float64
     */
    public static Result measure(double[] a, double[] q, int n, double[] k, double[] v, int m, int d, int dv,
                                 double tau, boolean single) {
        // every array but the result in the calling thread's scratch
        double[] vbar = Dense.columnMeans(v, 0, m, dv, Dense.scratch(Dense.GAP_VALUE_MEANS, dv));
        double[] kbar = Dense.columnMeans(k, 0, m, d, Dense.scratch(Dense.GAP_KEY_MEANS, d));
        double[] vc = Dense.centred(v, 0, m, dv, vbar, Dense.scratch(Dense.GAP_VALUES, m * dv));
        boolean inJava = (long) n * m * dv < EnergyField.NATIVE_MIN_WORK;
        // m C^T = Kc^T Vc (d x dv) by the blocked product, each entry summed over the keys in order, before
        // A Vc, which rounds vc in place when single. Kc^T is formed four rows at a time (the product's block)
        // in a 4 x m buffer, each block's rows of C^T written before the next is formed; the same buffer
        // holds four rows of the rounded A at a time there.
        double[] work = Dense.scratch(Dense.GAP_WORK, Math.min(4, Math.max(d, n)) * m);
        double[] ct = Dense.scratch(Dense.GAP_CT, d * dv);
        for (int from = 0; from < d; from += 4) {
            int rows = Math.min(4, d - from);
            for (int j = 0; j < m; j++) {
                for (int x = 0; x < rows; x++) {
                    work[x * m + j] = k[j * d + from + x] - kbar[from + x];
                }
            }
            Dense.multiply(work, 0, rows, m, vc, dv, ct, from * dv);
        }
        // o_i - vbar = sum_j A_ij (v_j - vbar) since rows of A sum to 1: exact zeros for constant V.
        double[] oc;
        if (inJava) {
            oc = javaProduct(a, vc, n, m, dv, single, work);
        } else {
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                DataType type = single ? DataType.FLOAT : DataType.DOUBLE;
                INDArray an = Native.borrowFilled(a, n, m, type, 'c');
                INDArray vn = Native.borrowFilled(vc, m, dv, type, 'c');
                INDArray av = Native.borrow(type, n, dv, 'f');
                Nd4j.gemm(an, vn, av, false, false, 1.0, 0.0);
                oc = Native.toDoubles(av);
                Native.giveBack(an, vn, av);
            }
        }
        // Q C^T (m times it) by the blocked product four rows at a time, each block read here before the next
        // is formed: no n x dv array of predictions.
        double[] lin = Dense.scratch(Dense.GAP_LINEAR, Math.min(n, 4) * dv);
        double num = 0, den = 0;
        for (int from = 0; from < n; from += 4) {
            int rows = Math.min(4, n - from);
            Dense.multiply(q, from * d, rows, d, ct, dv, lin, 0);
            for (int i = from; i < from + rows; i++) {
                for (int r = 0, at = i * dv, l = (i - from) * dv; r < dv; r++, at++, l++) {
                    double oi = oc[at];
                    double diff = oi - tau * lin[l] / m;
                    num += diff * diff;
                    den += oi * oi;
                    oc[at] = oi + vbar[r];
                }
            }
        }
        return new Result(den == 0 ? Double.NaN : num / den, oc);
    }

    /**
     * {@code A Vc} ({@code A [n, m]}) as the native product forms it: inputs and each result rounded to float32
     * when single ({@code vc} in place). By the blocked {@link Dense#multiply}, when single on rounded copies of
     * four rows of A at a time in {@code room} (at least {@code min(n, 4) x m}), each block's rows of the result
     * written before the next is rounded: each entry sums {@code A_ij vc_j} in order of j, as a product row by
     * row does, so the numbers are those of {@link #rowByRow}.
     */
    static double[] javaProduct(double[] a, double[] vc, int n, int m, int dv, boolean single, double[] room) {
        if (!single) {
            return Dense.multiply(a, n, m, vc, dv);
        }
        Dense.roundToFloat(vc, m * dv);
        double[] out = new double[n * dv];
        for (int from = 0; from < n; from += 4) {
            int rows = Math.min(4, n - from);
            for (int x = 0, at = from * m; x < rows * m; x++, at++) {
                room[x] = (float) a[at];
            }
            Dense.multiply(room, 0, rows, m, vc, dv, out, from * dv);
        }
        return Dense.roundToFloat(out);
    }

    /** {@link #javaProduct} row by row, {@code o_i += A_ij vc_j} with j in order: the reference of its tests. */
    static double[] rowByRow(double[] a, double[] vc, int n, int m, int dv, boolean single) {
        double[] out = new double[n * dv];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < m; j++) {
                double aij = single ? (float) a[i * m + j] : a[i * m + j];
                for (int r = 0; r < dv; r++) {
                    double v = single ? (float) vc[j * dv + r] : vc[j * dv + r];
                    out[i * dv + r] += aij * v;
                }
            }
        }
        return single ? Dense.roundToFloat(out) : out;
    }
}
